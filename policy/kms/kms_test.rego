# Unit tests of the KMS checks in package main.
package kms_test

import rego.v1

own := "111122223333"

other := "444455556666"

root := {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}

everyone(extra) := object.union({"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt"], "Resource": "*"}, extra)

policy(stmts) := {"Version": "2012-10-17", "Statement": stmts}

# Each helper evaluates one rule against an input: `x := rule with ...` keeps
# `with` on an assignment, which both OPA and regorus honour.
wildcard(inp) := r if r := data.main.deny_kms_wildcard_principal with input as inp

delegation(inp) := r if r := data.main.deny_kms_missing_iam_delegation with input as inp

delegation_owned(inp, owner) := r if r := data.main.deny_kms_missing_iam_delegation with input as inp with data.kms.owner_account as owner

malformed(inp) := r if r := data.main.deny_kms_malformed_policy with input as inp

admin(inp) := r if r := data.main.warn_kms_admin_wildcard_action with input as inp

cross(inp) := r if r := data.main.warn_kms_cross_account_access with input as inp

cross_owned(inp, owner) := r if r := data.main.warn_kms_cross_account_access with input as inp with data.kms.owner_account as owner

grant_check(inp) := r if r := data.main.warn_kms_grant_creation_not_limited_to_aws_services with input as inp

grant_check_enabled(inp) := r if {
	r := data.main.warn_kms_grant_creation_not_limited_to_aws_services with input as inp
		with data.kms.optional_checks as ["grant-creation-not-limited-to-aws-services"]
}

rotation(inp) := r if r := data.main.warn_kms_rotation_disabled with input as inp

deputy(inp) := r if r := data.main.warn_kms_service_principal_without_source_condition with input as inp

duties(inp) := r if r := data.main.warn_kms_admin_and_use_same_principal with input as inp

decrypt_scope(inp) := r if r := data.main.warn_kms_decrypt_not_scoped with input as inp

decrypt_scope_enabled(inp) := r if {
	r := data.main.warn_kms_decrypt_not_scoped with input as inp
		with data.kms.optional_checks as ["decrypt-not-scoped"]
}

lockout(inp) := r if r := data.main.warn_kms_lockout_safety_check_bypassed with input as inp

not_evaluated(inp) := r if r := data.main.warn_kms_policy_not_evaluated with input as inp

# ---------------------------------------------------------- wildcard-principal

test_wildcard_string_principal_denied if {
	r := wildcard(policy([root, everyone({})]))
	count(r) == 1
	some f in r
	f.id == "wildcard-principal"
	f.severity == "deny"
	f.statement == {"index": 1, "sid": "Everyone"}
	contains(f.msg, "statement 1 (Sid \"Everyone\")")
	contains(f.msg, "kms:Decrypt")
	not f.resource
}

test_wildcard_aws_forms_denied if {
	count(wildcard(policy([root, everyone({"Principal": {"AWS": "*"}})]))) == 1
	count(wildcard(policy([root, everyone({"Principal": {"AWS": ["arn:aws:iam::111122223333:role/a", "*"]}})]))) == 1
	count(wildcard({"Statement": everyone({})})) == 1
}

test_wildcard_not_principal_allow_denied if {
	st := object.union(object.remove(everyone({}), ["Principal"]), {"NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/a"}})
	count(wildcard(policy([root, st]))) == 1
}

test_wildcard_deny_and_service_pass if {
	count(wildcard(policy([root, everyone({"Effect": "Deny"})]))) == 0
	count(wildcard(policy([root, everyone({"Principal": {"Service": "logs.amazonaws.com"}})]))) == 0
}

test_wildcard_ineffective_statement_not_evaluated if {
	count(wildcard(policy([root, object.remove(everyone({}), ["Resource"])]))) == 0
	count(wildcard(policy([root, object.remove(everyone({}), ["Action"])]))) == 0
}

test_wildcard_scoped_by_caller_account_passes if {
	count(wildcard(policy([root, everyone({"Condition": {"StringEquals": {"kms:CallerAccount": own}}})]))) == 0
	count(wildcard(policy([root, everyone({"Condition": {"StringEquals": {"KMS:callerAccount": own}}})]))) == 0
	count(wildcard(policy([root, everyone({"Condition": {"StringEqualsIfExists": {"kms:CallerAccount": own}}})]))) == 0
}

test_wildcard_unscoping_conditions_denied if {
	count(wildcard(policy([root, everyone({"Condition": {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}})]))) == 1
	count(wildcard(policy([root, everyone({"Condition": {"StringLike": {"kms:CallerAccount": "*"}}})]))) == 1
	count(wildcard(policy([root, everyone({"Condition": {"StringNotEquals": {"kms:CallerAccount": other}}})]))) == 1
	count(wildcard(policy([root, everyone({"Condition": {"StringEqualsIfExists": {"aws:SourceAccount": own}}})]))) == 1
	count(wildcard(policy([root, everyone({"Condition": {"StringEquals": {"kms:CallerAccount": ""}}})]))) == 1
	count(wildcard(policy([root, everyone({"Condition": {"Bool": {"aws:SecureTransport": "true"}}})]))) == 1
}

test_wildcard_aws_managed_key_pattern_passes if {
	ebs := policy([
		{"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"], "Resource": "*"},
		everyone({"Principal": {"AWS": "*"}, "Condition": {"StringEquals": {"kms:CallerAccount": own, "kms:ViaService": "ec2.us-east-1.amazonaws.com"}}}),
	])
	count(wildcard(ebs)) == 0
	count(delegation(ebs)) == 0
	count(admin(ebs)) == 0
	count(cross(ebs)) == 0
}

test_wildcard_cfn_caller_account_ref_passes if {
	tpl := {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true, "KeyPolicy": policy([
		{"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}, "Action": "kms:*", "Resource": "*"},
		everyone({"Condition": {"StringEquals": {"kms:CallerAccount": {"Ref": "AWS::AccountId"}}}}),
	])}}}}
	count(wildcard(tpl)) == 0
	count(delegation(tpl)) == 0
	count(rotation(tpl)) == 0
}

# ------------------------------------------------------ missing-iam-delegation

test_delegation_present_passes if {
	count(delegation(policy([root]))) == 0
	count(delegation(policy([object.union(root, {"Principal": {"AWS": own}})]))) == 0
	count(delegation(policy([object.union(root, {"Principal": {"AWS": "arn:aws-us-gov:iam::111122223333:root"}})]))) == 0
}

test_delegation_missing_denied_with_unknown_owner if {
	r := delegation(policy([{"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/a"}, "Action": "kms:Decrypt", "Resource": "*"}]))
	count(r) == 1
	some f in r
	f.id == "missing-iam-delegation"
	f.severity == "deny"
	contains(f.msg, "owner account unknown")
}

# The fix appends AWS's default delegation statement: for the owner when known, else for
# the only account the policy names (said so in the title), else for ACCOUNT_ID.
test_delegation_fix_appends_the_root_statement if {
	use := {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/a"}, "Action": "kms:Decrypt", "Resource": "*"}
	some named in delegation(policy([use]))
	named.fix == [{"op": "add", "path": "/Statement/-", "value": {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}}]
	contains(named.fix_title, "account 111122223333, the only account this policy names")
	some owned in delegation_owned(policy([object.union(root, {"Principal": {"AWS": "arn:aws:iam::444455556666:root"}})]), own)
	owned.fix[0].value.Principal.AWS == "arn:aws:iam::111122223333:root"
	not contains(owned.fix_title, "only account")
	logs := {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"}
	some unknown in delegation(policy([logs]))
	unknown.fix[0].value.Principal.AWS == "arn:aws:iam::ACCOUNT_ID:root"
	# In `aws kms get-key-policy` output the patch addresses the decoded Policy string.
	some wrapped in delegation({"Policy": json.marshal(policy([use])), "PolicyName": "default"})
	wrapped.fix[0].path == "/Policy/Statement/-"
	# In a template, the statement names the stack's account.
	cfn := {"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true, "KeyPolicy": policy([use])}}}}
	some templated in delegation(cfn)
	templated.fix[0].path == "/Resources/K/Properties/KeyPolicy/Statement/-"
	templated.fix[0].value.Principal.AWS == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
	# A Terraform heredoc: the patch goes on into the policy string.
	tf := {"resource": {"aws_kms_key": {"k": [{"enable_key_rotation": true, "policy": json.marshal(policy([use]))}]}}}
	some heredoc in delegation(tf)
	heredoc.fix[0].path == "/resource/aws_kms_key/k/0/policy/Statement/-"
}

# The wildcard fix names the owner account instead of everyone, or, for a statement for
# AWS services (kms:ViaService), keeps the principal and adds kms:CallerAccount.
test_wildcard_fix_names_the_account if {
	some plain in wildcard(policy([root, everyone({})]))
	plain.fix == [{"op": "replace", "path": "/Statement/1/Principal", "value": {"AWS": "arn:aws:iam::111122223333:root"}}]
	some aws in wildcard(policy([root, everyone({"Principal": {"AWS": "*"}})]))
	aws.fix[0].path == "/Statement/1/Principal/AWS"
	via := everyone({"Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}})
	some service in wildcard(policy([root, via]))
	service.fix == [{"op": "add", "path": "/Statement/1/Condition/StringEquals/kms:CallerAccount", "value": "111122223333"}]
	contains(service.fix_title, "kms:CallerAccount")
	listed := everyone({"Principal": {"AWS": ["*", "arn:aws:iam::111122223333:role/a"]}})
	some none in wildcard(policy([root, listed]))
	not none.fix
}

# kms:* to a role becomes the key user list, or the administrator list for an admin role.
test_admin_wildcard_fix_lists_the_role_actions if {
	app := {"Sid": "App", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/my-app-role"}, "Action": "kms:*", "Resource": "*"}
	some user in admin(policy([root, app]))
	user.fix == [{"op": "replace", "path": "/Statement/1/Action", "value": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]}]
	contains(user.fix_title, "key user actions")
	some adm in admin(policy([root, object.union(app, {"Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"}})]))
	"kms:ScheduleKeyDeletion" in adm.fix[0].value
	not "kms:Decrypt" in adm.fix[0].value
	some none in admin(policy([root, object.remove(object.union(app, {"NotAction": "kms:Decrypt"}), ["Action"])]))
	not none.fix
	# A root principal KMS would reject is repaired, not narrowed.
	short := object.union(app, {"Principal": {"AWS": "arn:aws:iam::12345678:root"}})
	some rooted in admin(policy([root, short]))
	not rooted.fix
}

# Grant actions alone gain the condition; mixed with others they move to their own statement.
test_grant_fix_keeps_other_actions_working if {
	only := {"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/a"}, "Action": ["kms:CreateGrant", "kms:ListGrants"], "Resource": "*"}
	some g in grant_check_enabled(policy([root, only]))
	g.fix == [{"op": "add", "path": "/Statement/1/Condition", "value": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}]
	mixed := object.union(only, {"Action": ["kms:Decrypt", "kms:CreateGrant"]})
	some m in grant_check_enabled(policy([root, mixed]))
	m.fix[0] == {"op": "replace", "path": "/Statement/1/Action", "value": ["kms:Decrypt"]}
	m.fix[1].value.Action == ["kms:CreateGrant"]
	m.fix[1].value.Condition == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
	m.fix[1].value.Principal == only.Principal
	# The new statement keeps the conditions that scope its principal.
	scoped := object.union(mixed, {"Condition": {"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}})
	some c in grant_check_enabled(policy([root, scoped]))
	c.fix[1].value.Condition == {"Bool": {"kms:GrantIsForAWSResource": "true"}, "StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}
}

test_delegation_other_account_root_does_not_count if {
	r := delegation_owned(policy([object.union(root, {"Principal": {"AWS": "arn:aws:iam::444455556666:root"}})]), own)
	count(r) == 1
	some f in r
	contains(f.msg, "arn:aws:iam::111122223333:root")
}

test_delegation_resource_must_be_this_key if {
	count(delegation(policy([object.union(root, {"Resource": "arn:aws:kms:us-east-1:111122223333:key/other"})]))) == 1
}

test_delegation_deny_root_does_not_count if {
	count(delegation_owned(policy([object.union(root, {"Effect": "Deny"})]), own)) == 1
}

# ------------------------------------------------------------ malformed-policy

test_malformed_document_level if {
	count(malformed({"Version": "2012-10-17"})) == 1
	count(malformed({"Version": "2012-10-17", "Statement": []})) == 1
	count(malformed({"Version": "2012-10-17", "Statement": "x"})) == 1
	count(malformed({"Policy": "{not json", "PolicyName": "default"})) == 1
	count(malformed({"Policy": 5})) == 1
}

test_malformed_statement_level if {
	r := malformed(policy([root, object.union(everyone({}), {"Effect": "allow"})]))
	count(r) == 1
	some f in r
	f.statement.index == 1
	contains(f.msg, "\"allow\"")
	count(malformed(policy([root, object.remove(everyone({}), ["Principal"])]))) == 1
	count(malformed(policy([root, object.remove(everyone({}), ["Resource", "Action"])]))) == 2
	count(malformed(policy([root, "text"]))) == 1
}

test_well_formed_variants_pass if {
	count(malformed({"Statement": root})) == 0
	count(malformed({"Statement": [object.union(root, {"Sid": "with spaces and é"})]})) == 0
	count(malformed({"Statement": [object.union(object.remove(root, ["Action"]), {"NotAction": "kms:Decrypt"})]})) == 0
}

# A statement written as a CloudFormation condition: each branch is a statement,
# AWS::NoValue none; a finding names the condition and the template's index.
test_conditional_statements_are_branches if {
	cond := {"Fn::If": ["IsProd", everyone({}), {"Ref": "AWS::NoValue"}]}
	inp := policy([root, cond])
	count(malformed(inp)) == 0
	r := wildcard(inp)
	count(r) == 1
	some f in r
	f.statement.index == 1
	contains(f.msg, "statement 1 (Sid \"Everyone\") when condition IsProd is true, allows")
	# YAML `!If [IsProd, {...}, !Ref AWS::NoValue]` arrives as a three-element array.
	short := ["IsProd", object.union(everyone({}), {"Principal": {"AWS": "arn:aws:iam::111122223333:role/ops"}}), "AWS::NoValue"]
	count(malformed(policy([root, short]))) == 0
	count(wildcard(policy([root, short]))) == 0
	# The else branch, and a statement after a conditional keeps its own index.
	other_side := {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, everyone({"Sid": "Late"})]}
	r2 := wildcard(policy([other_side, root, everyone({"Sid": "Last"})]))
	{g.statement.index | some g in r2} == {0, 2}
	some f2 in r2
	contains(f2.msg, "when condition IsProd is false")
	# A three-element array that is no condition stays malformed.
	count(malformed(policy([root, ["a", "b", "c"]]))) == 1
}

cfn_template(stmts, conds) := {"Conditions": conds, "Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true, "KeyPolicy": policy(stmts)}}}}

# Conditions inside a statement's values: each combination of the conditions is a
# possible statement; AWS::NoValue drops a list element or a key.
test_conditional_values_are_branches if {
	conds := {"HasOps": {}, "Scoped": {}}
	ops := "arn:aws:iam::111122223333:role/ops"

	# A principal that is everyone in one branch only.
	p := everyone({"Principal": {"AWS": {"Fn::If": ["HasOps", ops, "*"]}}})
	count(malformed(cfn_template([root, p], conds))) == 0
	r := wildcard(cfn_template([root, p], conds))
	count(r) == 1
	some f in r
	f.statement.index == 1
	contains(f.msg, "statement 1 (Sid \"Everyone\") when condition HasOps is false, allows")

	# YAML `!If [HasOps, arn, !Ref AWS::NoValue]` as a list element: both branches clean.
	short := everyone({"Principal": {"AWS": ["arn:aws:iam::111122223333:role/app", ["HasOps", ops, "AWS::NoValue"], "arn:aws:iam::111122223333:role/ci"]}})
	count(malformed(cfn_template([root, short], conds))) == 0
	count(wildcard(cfn_template([root, short], conds))) == 0

	# With no such condition in the template, the same list is three principals.
	count(malformed(cfn_template([root, short], {}))) == 1

	# A Condition that scopes the statement in one branch only.
	c := everyone({"Condition": {"Fn::If": ["Scoped", {"StringEquals": {"kms:CallerAccount": own}}, {"Ref": "AWS::NoValue"}]}})
	r2 := wildcard(cfn_template([root, c], conds))
	count(r2) == 1
	some f2 in r2
	contains(f2.msg, "when condition Scoped is false, allows")

	# An Action element that adds kms:* in one branch.
	a := object.union(root, {"Sid": "Ops", "Principal": {"AWS": ops}, "Action": ["kms:Decrypt", {"Fn::If": ["HasOps", "kms:*", {"Ref": "AWS::NoValue"}]}]})
	r3 := admin(cfn_template([root, a], conds))
	count(r3) == 1
	some f3 in r3
	contains(f3.msg, "when condition HasOps is true")

	# A conditional inside a branch: expanded too, naming both conditions.
	nested := everyone({"Principal": {"AWS": {"Fn::If": ["HasOps", {"Fn::If": ["Scoped", "*", ops]}, ops]}}})
	r4 := wildcard(cfn_template([root, nested], conds))
	count(r4) == 1
	some f4 in r4
	contains(f4.msg, "when condition HasOps is true and condition Scoped is true, allows")
}

# Template values stand for valid parts; the literal parts around them are still checked.
test_template_principals_keep_their_literal_parts if {
	short := {"Sid": "R", "Effect": "Allow", "Principal": {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::12345678:root"]]}}, "Action": "kms:*", "Resource": "*"}
	some f in malformed(cfn_template([short], {}))
	contains(f.msg, "has the principal \"arn:${AWS::Partition}:iam::12345678:root\", which is neither")
	good := object.union(short, {"Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}})
	count(malformed(cfn_template([good], {}))) == 0
}

# More conditions in one statement than are expanded: reported, not guessed.
test_too_many_conditions_are_not_evaluated if {
	names := [sprintf("C%d", [n]) | some n in numbers.range(1, 7)]
	conds := {n: {} | some n in names}
	st := everyone({"Principal": {"AWS": [{"Fn::If": [n, "*", {"Ref": "AWS::NoValue"}]} | some n in names]}})
	inp := cfn_template([root, st], conds)
	count(malformed(inp)) == 0
	some w in not_evaluated(inp)
	contains(w.msg, "statement 1 depends on 7 CloudFormation conditions")
}

# Terraform: a heredoc that is JSON only after an interpolation, and a KMS module's
# `policy` input, are not passed over silently.
test_terraform_interpolations_and_module_inputs if {
	partial := "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": ${jsonencode(var.admins)}}, \"Action\": \"kms:*\", \"Resource\": \"*\"}]}"
	key := {"resource": {"aws_kms_key": {"k": [{"enable_key_rotation": true, "policy": partial}]}}}
	count(malformed(key)) == 0
	some w in not_evaluated(key)
	contains(w.msg, "interpolation ${jsonencode(var.admins)}")
	open_policy := json.marshal(policy([root, everyone({})]))
	mods := {"module": {
		"k": [{"source": "terraform-aws-modules/kms/aws", "policy": open_policy}],
		"net": [{"source": "terraform-aws-modules/vpc/aws", "policy": open_policy}],
	}}
	{f.resource | some f in wildcard(mods)} == {"module.k"}
	count(rotation(mods)) == 0
}

# Principals KMS rejects, and a delegation whose actions name no KMS action.
test_principals_kms_rejects if {
	listed := object.union(everyone({}), {"Principal": ["ops", "*"]})
	some f in malformed(policy([root, listed]))
	contains(f.msg, "has a Principal that is a list")
	bare := object.union(everyone({}), {"Principal": {"AWS": ["ops", "arn:aws:iam::12345:root", "111122223333", "arn:aws:iam::111122223333:role/x"]}})
	{g.msg | some g in malformed(policy([root, bare]))} == {
		"Key policy, statement 1 (Sid \"Everyone\") has the principal \"ops\", which is neither \"*\", a 12-digit account id nor an ARN with a 12-digit account, so KMS rejects the policy; fix the statement.",
		"Key policy, statement 1 (Sid \"Everyone\") has the principal \"arn:aws:iam::12345:root\", which is neither \"*\", a 12-digit account id nor an ARN with a 12-digit account, so KMS rejects the policy; fix the statement.",
	}
	# In CloudFormation a bare name may be YAML `!Ref Param`: not judged.
	cfn := {"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": policy([object.union(root, {"Principal": {"AWS": "AWS::AccountId"}})])}}}}
	count(malformed(cfn)) == 0
	no_kms := object.union(root, {"Action": "kms:"})
	count(delegation(policy([no_kms]))) == 1
	count(delegation(policy([object.union(root, {"Action": ["kms:", "KMS:Decrypt"]})]))) == 0
}

# CloudFormation parameters are unknown but concrete: an organization given by
# `!Ref OrgId` scopes an everyone principal (no wildcard-principal), and a root ARN
# in a parameter's account is another account.
test_cloudformation_parameters if {
	org := object.union(everyone({}), {"Condition": {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrgId"}}}})
	own_root := object.union(root, {"Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}})
	other := object.union(everyone({"Sid": "Other"}), {"Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${OtherAccount}:root"}}})
	tpl := {"Parameters": {"OrgId": {"Type": "String"}, "OtherAccount": {"Type": "String"}}, "Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true, "KeyPolicy": policy([own_root, org, other])}}}}
	count(wildcard(tpl)) == 0
	{f.statement.index | some f in cross(tpl)} == {1, 2}
	some g in cross(tpl)
	contains(g.msg, "${OtherAccount}")
	# YAML `!Ref OrgId` arrives as the parameter's name.
	yaml_org := object.union(everyone({}), {"Condition": {"StringEquals": {"aws:PrincipalOrgID": "OrgId"}}})
	tpl2 := json.patch(tpl, [{"op": "replace", "path": "/Resources/K/Properties/KeyPolicy", "value": policy([own_root, yaml_org])}])
	count(wildcard(tpl2)) == 0
	# A name that is no parameter is no organization id.
	tpl3 := json.patch(tpl2, [{"op": "remove", "path": "/Parameters/OrgId"}])
	count(wildcard(tpl3)) == 1
}

# A root delegation only under a condition direct calls never meet is no
# delegation (its own message); an IfExists form, or a second plain delegation, is.
test_conditioned_delegation if {
	via := object.union(root, {"Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}})
	r := delegation(policy([via]))
	count(r) == 1
	some f in r
	contains(f.msg, "only under StringEquals kms:ViaService, which a direct call to KMS never meets")
	count(delegation(policy([via, root]))) == 0
	if_exists := object.union(root, {"Condition": {"StringEqualsIfExists": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}})
	count(delegation(policy([if_exists]))) == 0
	caller := object.union(root, {"Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}})
	count(delegation(policy([caller]))) == 0
}

test_malformed_limits if {
	count(malformed(policy([object.union(root, {"Sid": "tick ✓"})]))) == 1
	big := policy([root, {"Sid": "Many", "Effect": "Allow", "Principal": {"AWS": [sprintf("arn:aws:iam::111122223333:role/a-long-role-name-%d", [i]) | some i in numbers.range(1, 800)]}, "Action": "kms:Decrypt", "Resource": "*"}])
	r := malformed(big)
	count(r) == 1
	some f in r
	contains(f.msg, "32768")
}

test_not_a_policy_gets_nothing if {
	inp := {"kind": "Deployment"}
	count(malformed(inp)) == 0
	count(delegation(inp)) == 0
	count(wildcard(inp)) == 0
}

# ------------------------------------------------------- admin-wildcard-action

test_admin_wildcard_to_role_warns if {
	r := admin(policy([root, {"Sid": "Ops", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Ops"}, "Action": "KMS:*", "Resource": "*"}]))
	count(r) == 1
	some f in r
	f.severity == "warn"
	contains(f.msg, "arn:aws:iam::111122223333:role/Ops")
}

test_admin_star_notaction_service_warn if {
	count(admin(policy([root, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/a"}, "Action": ["*"], "Resource": "*"}]))) == 1
	count(admin(policy([root, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/a"}, "NotAction": "kms:Decrypt", "Resource": "*"}]))) == 1
	count(admin(policy([root, {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}]))) == 1
}

test_admin_root_and_partial_wildcards_pass if {
	count(admin(policy([root]))) == 0
	count(admin(policy([root, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/a"}, "Action": ["kms:Create*", "kms:Decrypt*"], "Resource": "*"}]))) == 0
	count(admin(policy([root, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/a"}, "NotAction": "kms:*", "Resource": "*"}]))) == 0
	count(admin(policy([root, {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:role/a"}, "Action": "kms:*", "Resource": "*"}]))) == 0
}

# -------------------------------------------------------- cross-account-access

partner := {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/Reader"}, "Action": "kms:Decrypt", "Resource": "*"}

test_cross_account_principal_warns if {
	r := cross(policy([root, partner]))
	count(r) == 1
	some f in r
	f.statement == {"index": 1, "sid": "Partner"}
	contains(f.msg, "444455556666")
}

test_cross_account_same_account_and_deny_pass if {
	count(cross(policy([root, object.union(partner, {"Principal": {"AWS": "arn:aws:iam::111122223333:role/Reader"}})]))) == 0
	count(cross(policy([root, object.union(partner, {"Effect": "Deny"})]))) == 0
	count(cross(policy([root, object.union(object.remove(partner, ["Principal"]), {"Principal": {"Service": "s3.amazonaws.com"}})]))) == 0
}

test_cross_account_everyone_scoped_elsewhere_warns if {
	count(cross(policy([root, everyone({"Condition": {"StringEquals": {"kms:CallerAccount": other}}})]))) == 1
	count(cross(policy([root, everyone({"Condition": {"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}})]))) == 1
	count(cross(policy([root, everyone({"Condition": {"StringEquals": {"kms:CallerAccount": own}}})]))) == 0
}

test_cross_account_owner_unknown_says_so if {
	r := cross(policy([root, object.union(root, {"Principal": {"AWS": "arn:aws:iam::444455556666:root"}})]))
	count(r) == 1
	some f in r
	contains(f.msg, "owner account is unknown")
}

test_cross_account_owner_from_data if {
	count(cross_owned(policy([root]), "777788889999")) == 1
	count(cross_owned(policy([root]), own)) == 0
}

test_cross_account_grants if {
	key := "arn:aws:kms:us-east-1:111122223333:key/k"
	count(cross({"Grants": [{"KeyId": key, "GrantId": "g1", "GranteePrincipal": "arn:aws:iam::444455556666:role/R", "Operations": ["Decrypt"]}]})) == 1
	count(cross({"Grants": [{"KeyId": key, "GrantId": "g1", "GranteePrincipal": "arn:aws:iam::111122223333:role/R", "Operations": ["Decrypt"]}]})) == 0
	count(cross({"Grants": [{"KeyId": key, "GrantId": "g1", "GranteePrincipal": "dynamodb.us-west-2.amazonaws.com", "Operations": ["Decrypt"]}]})) == 0
}

# ------------------------------------------ grant-creation (optional, default off)

direct_grants := policy([root, {"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/a"}, "Action": "kms:Create*", "Resource": "*"}])

test_grant_creation_off_by_default if {
	count(grant_check(direct_grants)) == 0
}

test_grant_creation_enabled_warns if {
	count(grant_check_enabled(direct_grants)) == 1
}

test_grant_creation_limited_passes if {
	limited := policy([root, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/a"}, "Action": "kms:CreateGrant", "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}])
	count(grant_check_enabled(limited)) == 0
	service := policy([root, {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "kms:CreateGrant", "Resource": "*"}])
	count(grant_check_enabled(service)) == 0
}

# ---------------------------------------------------------- rotation & lockout

cfn_key(props) := {"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": props}}}

test_rotation_cfn if {
	r := rotation(cfn_key({}))
	count(r) == 1
	some f in r
	f.resource == "K"
	count(rotation(cfn_key({"EnableKeyRotation": "true"}))) == 0
	count(rotation(cfn_key({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}))) == 0
	count(rotation(cfn_key({"Origin": "EXTERNAL"}))) == 0
	count(rotation(cfn_key({"EnableKeyRotation": "RotateParam"}))) == 0
}

test_rotation_terraform_hcl if {
	count(rotation({"resource": {"aws_kms_key": {"a": [{"enable_key_rotation": false}]}}})) == 1
	count(rotation({"resource": {"aws_kms_key": {"a": [{"enable_key_rotation": true}]}}})) == 0
	count(rotation({"resource": {"aws_kms_key": {"a": [{"customer_master_key_spec": "RSA_4096", "key_usage": "SIGN_VERIFY"}]}}})) == 0
	count(rotation({"resource": {"aws_kms_key": {"a": [{"custom_key_store_id": "cks-1"}]}}})) == 0
}

test_lockout_bypass if {
	count(lockout(cfn_key({"BypassPolicyLockoutSafetyCheck": true}))) == 1
	count(lockout({"resource": {"aws_kms_key_policy": {"p": [{"bypass_policy_lockout_safety_check": true, "policy": "{}"}]}}})) == 1
	count(lockout(cfn_key({"BypassPolicyLockoutSafetyCheck": false}))) == 0
}

# ------------------------------------------------------------- input shapes

test_get_key_policy_string_decoded if {
	inp := {"Policy": json.marshal(policy([root, everyone({})])), "PolicyName": "default"}
	count(wildcard(inp)) == 1
	count(delegation(inp)) == 0
}

plan_key(addr, values, unknown) := {"address": addr, "mode": "managed", "type": "aws_kms_key", "name": "k", "change": {"actions": ["create"], "after": values, "after_unknown": unknown}}

test_plan_reported_once_per_address if {
	values := {"policy": json.marshal(policy([root, everyone({})])), "enable_key_rotation": true}
	plan := {
		"planned_values": {"root_module": {"child_modules": [{"resources": [{"address": "module.m.aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "values": values}]}]}},
		"resource_changes": [plan_key("module.m.aws_kms_key.k", values, {})],
	}
	r := wildcard(plan)
	count(r) == 1
	some f in r
	f.resource == "module.m.aws_kms_key.k"
}

test_plan_unknown_policy_reported if {
	plan := {
		"resource_changes": [plan_key("aws_kms_key.k", {"enable_key_rotation": true}, {"policy": true})],
		"configuration": {"root_module": {"resources": [{"address": "aws_kms_key.k", "expressions": {"policy": {"references": ["aws_iam_role.r.arn"]}}}]}},
	}
	count(not_evaluated(plan)) == 1
}

test_plan_default_policy_not_reported if {
	plan := {
		"resource_changes": [plan_key("aws_kms_key.k", {"enable_key_rotation": true}, {"policy": true})],
		"configuration": {"root_module": {"resources": [{"address": "aws_kms_key.k", "expressions": {}}]}},
	}
	count(not_evaluated(plan)) == 0
	count(delegation(plan)) == 0
}

test_plan_caller_identity_is_owner if {
	values := {"policy": json.marshal(policy([root, partner])), "enable_key_rotation": true}
	plan := {
		"resource_changes": [plan_key("aws_kms_key.k", values, {})],
		"prior_state": {"values": {"root_module": {"resources": [{"type": "aws_caller_identity", "mode": "data", "values": {"account_id": own}}]}}},
	}
	count(cross(plan)) == 1
	count(delegation(plan)) == 0
}

test_hcl_heredoc_evaluated_and_jsonencode_reported if {
	heredoc := {"resource": {"aws_kms_key": {"k": [{"enable_key_rotation": true, "policy": json.marshal(policy([root, everyone({})]))}]}}}
	count(wildcard(heredoc)) == 1
	encoded := {"resource": {"aws_kms_key": {"k": [{"enable_key_rotation": true, "policy": "${jsonencode({\n Version = \"2012-10-17\"\n})}"}]}}}
	count(not_evaluated(encoded)) == 1
	count(wildcard(encoded)) == 0
	broken := {"resource": {"aws_kms_key": {"k": [{"enable_key_rotation": true, "policy": "{\"Statement\": [}"}]}}}
	count(malformed(broken)) == 1
}

test_hcl_caller_identity_reference_is_owner if {
	text := "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::${data.aws_caller_identity.current.account_id}:root\"}, \"Action\": \"kms:*\", \"Resource\": \"*\"}]}"
	inp := {"resource": {"aws_kms_key": {"k": [{"enable_key_rotation": true, "policy": text}]}}}
	count(delegation(inp)) == 0
	count(cross(inp)) == 0
}

test_cfn_yaml_short_forms if {
	tpl := cfn_key({"EnableKeyRotation": true, "KeyPolicy": {"Statement": [
		{"Effect": "Allow", "Principal": {"AWS": ["", ["arn:", "AWS::Partition", ":iam::", "AWS::AccountId", ":root"]]}, "Action": "kms:*", "Resource": "*"},
		everyone({"Condition": {"StringEquals": {"kms:CallerAccount": "AWS::AccountId"}}}),
	]}})
	count(wildcard(tpl)) == 0
	count(delegation(tpl)) == 0
	count(admin(tpl)) == 0
}

test_cfn_missing_delegation_names_owner_reference if {
	tpl := cfn_key({"EnableKeyRotation": true, "KeyPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/Admin"}, "Action": "kms:Describe*", "Resource": "*"}]}})
	r := delegation(tpl)
	count(r) == 1
	some f in r
	f.resource == "K"
	contains(f.msg, "AWS::AccountId")
}

logs_service := {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": ["kms:Encrypt*", "kms:Decrypt*"], "Resource": "*"}

# A service AWS documents confused-deputy protection for needs a condition tying its
# requests to the owner's resources; DescribeKey alone and unlisted services do not.
test_service_principal_needs_a_source_condition if {
	some open in deputy(policy([root, logs_service]))
	open.id == "service-principal-without-source-condition"
	open.fix == [{"op": "add", "path": "/Statement/1/Condition", "value": {"StringEquals": {"aws:SourceAccount": own}}}]
	count(deputy(policy([root, object.union(logs_service, {"Condition": {"StringEquals": {"aws:SourceAccount": own}}})]))) == 0
	count(deputy(policy([root, object.union(logs_service, {"Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:111122223333:*"}}})]))) == 0
	count(deputy(policy([root, object.union(logs_service, {"Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111122223333:*"}}})]))) == 0
	# IfExists does not protect: a request without the key passes.
	count(deputy(policy([root, object.union(logs_service, {"Condition": {"StringEqualsIfExists": {"aws:SourceAccount": own}}})]))) == 1
	count(deputy(policy([root, object.union(logs_service, {"Action": "kms:DescribeKey"})]))) == 0
	count(deputy(policy([root, object.union(logs_service, {"Principal": {"Service": "ec2.amazonaws.com"}})]))) == 0
}

key_admin := {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Platform"}, "Action": ["kms:Create*", "kms:Put*", "kms:ScheduleKeyDeletion"], "Resource": "*"}

key_use := {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Platform"}, "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*"], "Resource": "*"}

# One role both administering the key and decrypting with it is one finding naming both
# statements; its fix takes the decrypt actions (Decrypt, ReEncrypt*) from the use statement.
test_admin_and_use_by_one_principal if {
	some both in duties(policy([root, key_admin, key_use]))
	contains(both.msg, "role/Platform both administer the key (statement 1 (Sid \"Admins\")) and decrypt with it (statement 2 (Sid \"Use\"))")
	both.fix == [{"op": "replace", "path": "/Statement/2/Action", "value": ["kms:Encrypt"]}]
	count(duties(policy([root, key_admin, object.union(key_use, {"Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}})]))) == 0
	# A use statement of decrypt only goes.
	some only in duties(policy([root, key_admin, object.union(key_use, {"Action": "kms:Decrypt"})]))
	only.fix == [{"op": "remove", "path": "/Statement/2"}]
	# kms:* in one statement is the admin-wildcard-action finding, not this one.
	count(duties(policy([root, object.union(key_admin, {"Action": "kms:*"})]))) == 0
	# A shared use statement is not edited.
	shared := object.union(key_use, {"Principal": {"AWS": ["arn:aws:iam::111122223333:role/Platform", "arn:aws:iam::111122223333:role/App"]}})
	some kept in duties(policy([root, key_admin, shared]))
	not kept.fix
}

# Off by default; enabled, decryption by a role needs kms:ViaService or kms:CallerAccount.
test_decrypt_not_scoped_is_optional if {
	app := object.union(key_use, {"Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}})
	count(decrypt_scope(policy([root, app]))) == 0
	some open in decrypt_scope_enabled(policy([root, app]))
	open.fix == [{"op": "add", "path": "/Statement/1/Condition", "value": {"StringEquals": {"kms:ViaService": "SERVICE.REGION.amazonaws.com"}}}]
	via := object.union(app, {"Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}})
	count(decrypt_scope_enabled(policy([root, via]))) == 0
	count(decrypt_scope_enabled(policy([root, logs_service]))) == 0
	# A statement that also names the account (maybe the delegation) is not edited.
	shared := object.union(app, {"Principal": {"AWS": ["arn:aws:iam::111122223333:role/App", own]}})
	some kept in decrypt_scope_enabled(policy([shared]))
	not kept.fix
}
