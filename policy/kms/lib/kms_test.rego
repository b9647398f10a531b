# Unit tests of the lib.kms helpers.
package lib.kms_test

import data.lib.kms
import rego.v1

own := "111122223333"

other := "444455556666"

test_as_list_scalar_list_and_yaml_join if {
	kms.as_list("a") == ["a"]
	kms.as_list(["a", "b"]) == ["a", "b"]
	kms.as_list(["", ["arn:", "x"]]) == [["", ["arn:", "x"]]]
}

test_value_string_resolves_cfn_intrinsics if {
	kms.value_string({"Ref": "AWS::AccountId"}) == "${AWS::AccountId}"
	kms.value_string({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
	kms.value_string({"Fn::Sub": ["x-${A}", {"A": "b"}]}) == "x-${A}"
	kms.value_string({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
	kms.value_string(["", ["arn:", "AWS::Partition", ":iam::", "AWS::AccountId", ":root"]]) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
	kms.value_string({"Fn::GetAtt": ["Role", "Arn"]}) == "Role.Arn"
	kms.value_string({"Fn::If": ["C", "a", "b"]}) == "${unknown}"
	kms.value_string(true) == "true"
	kms.value_string(111122223333) == own
}

test_normalize_owner_and_partition_references if {
	kms.normalize("AWS::AccountId") == kms.owner_token
	kms.normalize("arn:${AWS::Partition}:iam::${AWS::AccountId}:root") == "arn:aws:iam::(owner):root"
	kms.normalize("arn:aws:iam::${data.aws_caller_identity.current.account_id}:root") == "arn:aws:iam::(owner):root"
	kms.normalize("arn:${data.aws_partition.current.partition}:iam::1:root") == "arn:aws:iam::1:root"
	kms.normalize("plain") == "plain"
}

test_account_principal_forms if {
	kms.account_principal_or_null(sprintf("arn:aws:iam::%s:root", [own])) == own
	kms.account_principal_or_null(sprintf("arn:aws-us-gov:iam::%s:root", [own])) == own
	kms.account_principal_or_null(sprintf("arn:aws-cn:iam::%s:root", [own])) == own
	kms.account_principal_or_null(sprintf("arn:aws-iso-b:iam::%s:root", [own])) == own
	kms.account_principal_or_null(own) == own
	kms.account_principal_or_null("(owner)") == "(owner)"
	kms.account_principal_or_null("arn:aws:iam::${var.account}:root") == "${var.account}"
	kms.account_principal_or_null(sprintf("arn:aws:iam::%s:role/root", [own])) == null
	kms.account_principal_or_null("arn:aws:iam::*:root") == null
	kms.account_principal_or_null("arn:aws:iam::12345:root") == null
	kms.account_principal_or_null("arn:partition:iam::111122223333:root") == null
	kms.account_principal_or_null("12345") == null
}

test_principal_account_of_roles_users_sessions if {
	kms.principal_account(own) == own
	kms.principal_account(sprintf("arn:aws:iam::%s:role/App", [other])) == other
	kms.principal_account(sprintf("arn:aws:sts::%s:assumed-role/R/s", [other])) == other
	not kms.principal_account("logs.amazonaws.com")
}

test_statement_list_object_or_list if {
	kms.statement_list({"Statement": {"Sid": "a"}}) == [{"Sid": "a"}]
	kms.statement_list({"Statement": [{"Sid": "a"}, {"Sid": "b"}]}) == [{"Sid": "a"}, {"Sid": "b"}]
	kms.statement_list({"Version": "2012-10-17"}) == []
	kms.statement_list("text") == []
}

allow_all := {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}

test_is_effective_allow_requires_exact_effect_and_elements if {
	kms.is_effective_allow(allow_all)
	not kms.is_effective_allow(object.union(allow_all, {"Effect": "Deny"}))
	not kms.is_effective_allow(object.union(allow_all, {"Effect": "allow"}))
	not kms.is_effective_allow(object.remove(allow_all, ["Resource"]))
	not kms.is_effective_allow(object.remove(allow_all, ["Action"]))
	not kms.is_effective_allow(object.remove(allow_all, ["Principal"]))
	not kms.is_effective_allow(object.union(allow_all, {"Action": []}))
	not kms.is_effective_allow(object.union(allow_all, {"Resource": ""}))
	kms.is_effective_allow(object.union(object.remove(allow_all, ["Action"]), {"NotAction": "kms:Decrypt"}))
	kms.is_effective_allow(object.union(object.remove(allow_all, ["Principal"]), {"NotPrincipal": {"AWS": own}}))
	not kms.is_effective_allow(["not", "an", "object"])
}

# The facts a check reads for one statement.
fact(st) := kms.allow_fact(0, st)

test_everyone_principals if {
	fact({"Effect": "Allow", "Principal": "*"}).everyone == {"*"}
	fact({"Effect": "Allow", "Principal": {"AWS": "*"}}).everyone == {"*"}
	fact({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:role/x", "*"]}}).everyone == {"*"}
	count(fact({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/x"}}).everyone) == 1
	count(fact({"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}}).everyone) == 0
	count(fact({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}).everyone) == 0
}

test_non_account_principals if {
	fact({"Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:role/A"], "Service": "s3.amazonaws.com"}}).non_account == {"arn:aws:iam::111122223333:role/A", "s3.amazonaws.com"}
	count(fact({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}).non_account) == 0
}

test_principal_facts if {
	kms.principal_facts({"Principal": "*"}) == [{"type": "*", "raw": "*", "norm": "*", "acct": null, "pacct": null}]
	facts := kms.principal_facts({"Principal": {
		"AWS": ["arn:aws:iam::${AWS::AccountId}:root", sprintf("arn:aws:iam::%s:role/R", [other])],
		"Service": "logs.amazonaws.com",
	}})
	{f | some f in facts} == {
		{"type": "AWS", "raw": "arn:aws:iam::${AWS::AccountId}:root", "norm": "arn:aws:iam::(owner):root", "acct": "(owner)", "pacct": "(owner)"},
		{"type": "AWS", "raw": sprintf("arn:aws:iam::%s:role/R", [other]), "norm": sprintf("arn:aws:iam::%s:role/R", [other]), "acct": null, "pacct": other},
		{"type": "Service", "raw": "logs.amazonaws.com", "norm": "logs.amazonaws.com", "acct": null, "pacct": null},
	}
	kms.principal_facts({"Principal": {"AWS": "line\nbreak"}})[0].raw == "line break"
}

test_actions_are_case_insensitive if {
	kms.grants_all_actions({"Action": "KMS:*"})
	kms.grants_all_actions({"Action": ["kms:Decrypt", "*"]})
	not kms.grants_all_actions({"Action": ["kms:Create*", "kms:Decrypt*"]})
	kms.grants_all_actions({"NotAction": "kms:ScheduleKeyDeletion"})
	not kms.grants_all_actions({"NotAction": "kms:*"})
	kms.allows_action({"Action": "kms:Create*"}, "kms:CreateGrant")
	kms.allows_action({"Action": "kms:*Grant"}, "kms:CreateGrant")
	not kms.allows_action({"Action": "kms:Decrypt"}, "kms:CreateGrant")
	kms.allows_action({"NotAction": "kms:Decrypt"}, "kms:CreateGrant")
	not kms.allows_action({"NotAction": "kms:Create*"}, "kms:CreateGrant")
}

scoped(cond) if {
	some c in kms.conditions({"Condition": cond})
	kms.is_scoping_condition(c)
}

test_account_scoping_conditions if {
	scoped({"StringEquals": {"kms:CallerAccount": own}})
	scoped({"StringEquals": {"kms:callerAccount": own}})
	scoped({"StringEqualsIgnoreCase": {"aws:PrincipalAccount": [own, other]}})
	scoped({"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})
	scoped({"StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}})
	scoped({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/app-*"}})
	scoped({"StringEqualsIfExists": {"kms:CallerAccount": own}})
	scoped({"StringEquals": {"kms:CallerAccount": "(owner)"}})
	scoped({"StringEquals": {"aws:SourceAccount": own}})
}

test_non_scoping_conditions if {
	not scoped({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})
	not scoped({"StringLike": {"kms:CallerAccount": "*"}})
	not scoped({"StringEquals": {"kms:CallerAccount": ""}})
	not scoped({"StringEquals": {"kms:CallerAccount": []}})
	not scoped({"StringEquals": {"kms:CallerAccount": [own, "*"]}})
	not scoped({"StringNotEquals": {"kms:CallerAccount": own}})
	not scoped({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/x"}})
	not scoped({"StringEqualsIfExists": {"aws:SourceAccount": own}})
	not scoped({"ForAllValues:StringEquals": {"aws:SourceAccount": own}})
	not scoped({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::bucket"}})
	not scoped({"StringLike": {"aws:PrincipalOrgID": "o-*"}})
	not scoped({"Bool": {"aws:SecureTransport": "true"}})
	not scoped("not an object")
}

scoped_to_owner(st, owner) if kms.fact_scoped_to_owner(fact(st), owner)

test_scoped_to_owner if {
	scoped_to_owner({"Condition": {"StringEquals": {"kms:CallerAccount": own}}}, own)
	not scoped_to_owner({"Condition": {"StringEquals": {"kms:CallerAccount": [own, other]}}}, own)
	not scoped_to_owner({"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}, own)
	scoped_to_owner({"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5", "kms:CallerAccount": own}}}, own)
	scoped_to_owner({"Condition": {"ArnLike": {"aws:PrincipalArn": sprintf("arn:aws:iam::%s:role/*", [own])}}}, own)
	not scoped_to_owner({"Condition": {"ArnLike": {"aws:PrincipalArn": sprintf("arn:aws:iam::%s:role/*", [other])}}}, own)
}

test_grant_is_for_aws_resource if {
	kms.grant_is_for_aws_resource({"Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}})
	kms.grant_is_for_aws_resource({"Condition": {"Bool": {"kms:grantisforawsresource": true}}})
	not kms.grant_is_for_aws_resource({"Condition": {"Bool": {"kms:GrantIsForAWSResource": "false"}}})
	not kms.grant_is_for_aws_resource({"Condition": {"BoolIfExists": {"kms:GrantIsForAWSResource": "true"}}})
}

root_stmt(acct) := {"Effect": "Allow", "Principal": {"AWS": sprintf("arn:aws:iam::%s:root", [acct])}, "Action": "kms:*", "Resource": "*"}

doc(p) := {"resource": "", "source": "policy", "policy": p, "text": json.marshal(p), "hint": ""}

# The owner a key policy view would give the document.
policy_owner(d) := kms.policy_owner_of(d, kms.allow_facts(kms.statement_list(d.policy)))

test_policy_owner_order if {
	policy_owner(doc({"Statement": [root_stmt(own)]})) == own
	policy_owner(doc({"Statement": [root_stmt(own), root_stmt(other)]})) == ""
	policy_owner(doc({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/x"}, "Action": "kms:*", "Resource": "*"}]})) == ""
	policy_owner(object.union(doc({"Statement": [root_stmt(own)]}), {"hint": other})) == other
	policy_owner(doc({"Statement": [{"Effect": "Allow", "Principal": {"AWS": {"Ref": "AWS::AccountId"}}, "Action": "kms:*", "Resource": "*"}]})) == kms.owner_token

	# `x := ... with ...` then compare: regorus ignores `with` on a comparison.
	configured := policy_owner(doc({"Statement": [root_stmt(own)]})) with data.kms.owner_account as other
	configured == other
}

# view_delegates_to_owner for a policy whose owner is given.
delegates(p, owner) if kms.view_delegates_to_owner({"doc": {"policy": p, "owner": owner}, "allows": kms.allow_facts(kms.statement_list(p))})

test_delegates_to_owner if {
	delegates({"Statement": [root_stmt(own)]}, own)
	delegates({"Statement": [object.union(root_stmt(own), {"Action": ["kms:Describe*"], "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})]}, own)
	delegates({"Statement": [object.union(root_stmt(own), {"Principal": {"AWS": own}})]}, own)
	not delegates({"Statement": [root_stmt(other)]}, own)
	not delegates({"Statement": [object.union(root_stmt(own), {"Resource": "arn:aws:kms:us-east-1:111122223333:key/k"})]}, own)
	not delegates({"Statement": [object.union(root_stmt(own), {"Effect": "Deny"})]}, own)
	not delegates({"Statement": [object.union(object.remove(root_stmt(own), ["Principal"]), {"NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}})]}, own)
	delegates({"Statement": [object.union(root_stmt(own), {"Principal": {"AWS": "arn:aws:iam::${var.account}:root"}})]}, own)
	delegates({"Statement": [root_stmt(other)]}, "")
}

test_utf8_bytes_and_charset if {
	kms.utf8_bytes("abc") == 3
	kms.utf8_bytes("é") == 2
	kms.utf8_bytes("abcd") == 4
	kms.has_char_above_latin1("check ✓")
	not kms.has_char_above_latin1("café ÿ")
}

test_rotatable_key if {
	kms.rotatable_key({"spec": null, "usage": null, "origin": null, "store": null})
	kms.rotatable_key({"spec": "SYMMETRIC_DEFAULT", "usage": "ENCRYPT_DECRYPT", "origin": "AWS_KMS", "store": null})
	not kms.rotatable_key({"spec": "HMAC_256", "usage": "GENERATE_VERIFY_MAC", "origin": null, "store": null})
	not kms.rotatable_key({"spec": "RSA_2048", "usage": "ENCRYPT_DECRYPT", "origin": null, "store": null})
	not kms.rotatable_key({"spec": null, "usage": null, "origin": "EXTERNAL", "store": null})
	not kms.rotatable_key({"spec": null, "usage": null, "origin": null, "store": "cks-1"})
}

test_true_false_values if {
	kms.is_true(true)
	kms.is_true("True")
	not kms.is_true("${var.x}")
	kms.is_false_or_absent(null)
	kms.is_false_or_absent("false")
	not kms.is_false_or_absent("${var.rotate}")
	not kms.is_false_or_absent(true)
}

test_shape_detection if {
	kms.input_is_raw_policy with input as {"Statement": []}
	kms.input_is_raw_policy with input as {"Version": "2012-10-17"}
	not kms.input_is_raw_policy with input as {"Version": "2012-10-17", "Resources": {}}
	kms.input_is_get_key_policy with input as {"Policy": "{}", "PolicyName": "default"}
	kms.input_is_grant_list with input as {"Grants": []}
	kms.input_is_tf_plan with input as {"planned_values": {}}
	kms.input_is_cfn with input as {"Resources": {}}
	kms.input_is_hcl with input as {"resource": {}}
	not kms.input_is_raw_policy with input as {"kind": "Pod"}
}

test_tf_module_resources_nested if {
	root := {"resources": [{"address": "a"}], "child_modules": [{"resources": [{"address": "b"}], "child_modules": [{"child_modules": [{"resources": [{"address": "c"}]}]}]}]}
	{r.address | some r in kms.tf_module_resources(root)} == {"a", "b", "c"}
}

test_is_hcl_expression if {
	kms.is_hcl_expression("${jsonencode({\n a = 1\n})}")
	kms.is_hcl_expression("${data.aws_iam_policy_document.x.json}")
	not kms.is_hcl_expression("{\"Statement\": []}\n")
}

test_finding_shape if {
	kms.finding("x", "warn", "m", {}, null) == {"msg": "m", "id": "x", "severity": "warn"}
	kms.finding("x", "deny", "m", {"resource": "aws_kms_key.a", "owner": "111122223333"}, {"index": 0, "sid": ""}) == {"msg": "m", "id": "x", "severity": "deny", "resource": "aws_kms_key.a", "owner": "111122223333", "statement": {"index": 0, "sid": ""}}
	kms.finding("x", "warn", "m", {"resource": "", "owner": "(owner)"}, null) == {"msg": "m", "id": "x", "severity": "warn"}
}

test_finding_path_names_the_statement_or_the_policy if {
	doc := {"at": "/Policy", "policy": {"Statement": [{}, {}]}}
	kms.finding("x", "warn", "m", doc, {"index": 1, "sid": ""}).path == "/Policy/Statement/1"
	kms.finding("x", "warn", "m", {"at": "", "policy": {"Statement": {}}}, {"index": 0, "sid": ""}).path == "/Statement"
	kms.finding("x", "warn", "m", doc, null).path == "/Policy"
	not kms.finding("x", "warn", "m", {"at": "", "policy": {}}, null).path
	not kms.finding("x", "warn", "m", {"at": null, "policy": {"Statement": []}}, {"index": 0, "sid": ""}).path
}

test_clean_removes_tabs_and_newlines if {
	kms.clean("a\tb\nc") == "a b c"
}

test_clean_keeps_plain_strings_and_rejects_non_strings if {
	kms.clean("a b") == "a b"
	kms.clean("a\r\n\tb") == "a b"
	not kms.clean(1)
}

# The regex-free helpers agree with the regular expressions they replace.
account_samples := [
	"111122223333", "11112222333", "1111222233334", "11112222333a", "a11122223333", "111122223333\n",
	"", "(owner)", "(owner)x", "${var.account}", "${}", "${a}}", "${a}b", "${a", "$}", "{a}", "${a\nb}",
	"١١١١٢٢٢٢٣٣٣٣", "*", "arn:aws:iam::111122223333:root",
]

test_is_digits12_matches_regex if {
	{s | some s in account_samples; kms.is_digits12(s)} == {s | some s in account_samples; regex.match(`^[0-9]{12}$`, s)}
	not kms.is_digits12(111122223333)
}

test_is_account_field_matches_account_pattern if {
	{s | some s in account_samples; kms.is_account_field(s)} == {s | some s in account_samples; regex.match(kms.account_pattern, s)}
}

test_is_partition_matches_partition_pattern if {
	samples := ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-f", "aws-isox", "aws-iso1", "awsx", "", "AWS", "${p}", "${p}}", "${data.aws_partition.x.partition}"]
	{s | some s in samples; kms.is_partition(s)} == {s | some s in samples; regex.match(kms.partition_pattern, s)}
}

test_uses_owner_reference if {
	kms.uses_owner_reference("arn:aws:iam::${data.aws_caller_identity.current.account_id}:root")
	kms.uses_owner_reference("{\"Fn::Sub\": \"${AWS::AccountId}\"}")
	not kms.uses_owner_reference("data.aws_caller_identity.current")
	not kms.uses_owner_reference("arn:aws:iam::111122223333:root")
}

test_normalize_without_data_references if {
	kms.normalize("arn:${AWS::Partition}:iam::111122223333:role/${AWS::URLSuffix}") == "arn:aws:iam::111122223333:role/amazonaws.com"
	kms.normalize("${data.other.x}") == "${data.other.x}"
	kms.normalize("${AWS::AccountId}") == kms.owner_token
}

test_has_char_above_latin1_ascii_and_latin1 if {
	not kms.has_char_above_latin1("plain ascii")
	not kms.has_char_above_latin1("")
	kms.has_char_above_latin1("emoji 😀")
	kms.has_char_above_latin1("Ā")
}
