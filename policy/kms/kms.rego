# Built-in AWS KMS key-policy checks (see policy/kms/README.md).
#
# Entry rules live in `package main` so that conftest and regorun pick them up
# with the default namespace; helpers are in data.lib.kms. Rule names follow
# conftest's convention so `exception contains ["kms_<check>"]` works.
package main

import data.lib.kms
import rego.v1

# Rules of the library are referenced by full path (data.lib.kms.<rule>), functions
# through the `kms` alias: regorus evaluates every rule of a package when one of them
# is read through an import alias (about 0.9 ms per document for lib.kms).

# wildcard-principal: Allow to everyone ("*", {"AWS": "*"}, NotPrincipal)
# without a condition that scopes the caller's account or organization.
deny_kms_wildcard_principal contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	some s in v.allows
	who := s.everyone
	count(who) > 0
	count(s.scoping) == 0
	i := s.index
	st := s.statement
	msg := sprintf(
		"%s allows %s to any AWS principal (%s) with no condition limiting the caller's account or organization; name specific principals or add a condition such as StringEquals kms:CallerAccount.",
		[kms.statement_subject(d, i, st), kms.actions_label(st), concat(", ", sort(who))],
	)
	result := object.union(kms.finding("wildcard-principal", "deny", msg, d, kms.statement_ref(i, st)), kms.wildcard_fix(v, i, st))
}

# missing-iam-delegation: no Allow statement for the owner's account principal,
# so IAM policies in the owner account are ignored for this key.
deny_kms_missing_iam_delegation contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	d.owner != ""
	v.delegates == false
	count(v.delegation_blockers) == 0
	msg := sprintf(
		"%s has no Allow statement with Resource \"*\" for the owner account principal %s, so IAM policies in account %s are ignored for this key and it can become unmanageable; add a statement allowing Principal {\"AWS\": \"%s\"} Action \"kms:*\" on Resource \"*\".",
		[kms.subject(d.resource), kms.owner_root_label(d.owner), kms.owner_label(d.owner), kms.owner_root_label(d.owner)],
	)
	result := object.union(kms.finding("missing-iam-delegation", "deny", msg, d, null), kms.delegation_fix(v))
}

deny_kms_missing_iam_delegation contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	d.owner == ""
	v.delegates == false
	count(v.delegation_blockers) == 0
	msg := sprintf(
		"%s has no Allow statement with Resource \"*\" for any account principal (arn:aws:iam::<account>:root), so IAM policies are ignored for this key and it can become unmanageable (owner account unknown: set data.kms.owner_account); add a statement allowing the owner account principal Action \"kms:*\" on Resource \"*\".",
		[kms.subject(d.resource)],
	)
	result := object.union(kms.finding("missing-iam-delegation", "deny", msg, d, null), kms.delegation_fix(v))
}

# missing-iam-delegation: the account principal is allowed only under a condition
# that direct calls never meet (kms:ViaService, aws:CalledVia, grants for AWS
# resources), so no IAM administrator can manage the key.
deny_kms_missing_iam_delegation contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	v.delegates == false
	blockers := v.delegation_blockers
	count(blockers) > 0
	msg := sprintf(
		"%s allows the account principal only under %s, which a direct call to KMS never meets, so IAM policies cannot let administrators manage this key (PutKeyPolicy, ScheduleKeyDeletion) and it can become unmanageable; add a statement allowing the owner account principal Action \"kms:*\" on Resource \"*\" without that condition.",
		[kms.subject(d.resource), concat(", ", sort(blockers))],
	)
	result := object.union(kms.finding("missing-iam-delegation", "deny", msg, d, null), kms.delegation_fix(v))
}

# malformed-policy: texts that are not JSON.
deny_kms_malformed_policy contains result if {
	some t in data.lib.kms.unreadable_policies
	msg := sprintf(
		"%s is not valid JSON (%s), so it cannot be evaluated; fix the policy document.",
		[kms.subject(t.resource), kms.short(t.text)],
	)
	result := kms.finding("malformed-policy", "deny", msg, {"resource": t.resource}, null)
}

# malformed-policy: document-level structure.
deny_kms_malformed_policy contains result if {
	some d in data.lib.kms.policy_documents
	problem := document_problem(d.policy)
	msg := sprintf("%s %s, so it cannot be evaluated; fix the policy document.", [kms.subject(d.resource), problem])
	result := kms.finding("malformed-policy", "deny", msg, d, null)
}

# malformed-policy: statement-level structure (a statement missing Action or
# Resource has no effect; AWS only rejects it in the console).
deny_kms_malformed_policy contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	some i, st in v.statements
	problem := statement_problems(st, d.source == "cloudformation")[_]
	msg := sprintf("%s, %s %s; fix the statement.", [kms.subject(d.resource), kms.statement_label(i, st), problem])
	result := kms.finding("malformed-policy", "deny", msg, d, kms.statement_ref(i, st))
}

# malformed-policy: KMS limits (size, characters).
deny_kms_malformed_policy contains result if {
	some d in data.lib.kms.policy_documents
	size := kms.utf8_bytes(d.text)
	size > data.lib.kms.max_policy_bytes
	msg := sprintf(
		"%s is %d bytes, over the KMS limit of 32768 bytes, so PutKeyPolicy rejects it; shorten it (merge statements, use conditions instead of long principal lists).",
		[kms.subject(d.resource), size],
	)
	result := kms.finding("malformed-policy", "deny", msg, d, null)
}

deny_kms_malformed_policy contains result if {
	some d in data.lib.kms.policy_documents
	kms.has_char_above_latin1(d.text)
	msg := sprintf(
		"%s contains characters above U+00FF, which KMS rejects; use only printable ASCII and Latin-1 characters.",
		[kms.subject(d.resource)],
	)
	result := kms.finding("malformed-policy", "deny", msg, d, null)
}

# One definition with `else` branches: the conditions exclude each other, and a single
# definition can never raise a conflict, so the bytecode path stays exact.
document_problem(p) := "is not a JSON object" if {
	not is_object(p)
} else := "has no Statement element" if {
	not "Statement" in object.keys(p)
} else := "has a Statement that is neither an object nor a list" if {
	not is_array(p.Statement)
	not is_object(p.Statement)
} else := "has an empty Statement list" if {
	p.Statement == []
}

statement_problems(st, cfn) := {"is not an object"} if {
	not is_object(st)
} else := set() if {
	# The usual statement, settled in place (this runs for every statement): each
	# element present, and a principal in a usual shape.
	not st.NotPrincipal
	st.Effect in {"Allow", "Deny"}
	st.Action != null
	not st.Action in {[], ""}
	st.Resource != null
	not st.Resource in {[], ""}
	usual_principal(st.Principal)
} else := object_statement_problems(st, cfn)

object_statement_problems(st, cfn) := (((effect_problems(st) | {"has no Principal or NotPrincipal" |
	lacks(st, "Principal", "NotPrincipal")
}) | principal_problems(st, cfn)) | {"has no Action or NotAction, so it has no effect" |
	lacks(st, "Action", "NotAction")
}) | {"has no Resource or NotResource, so it has no effect" |
	lacks(st, "Resource", "NotResource")
}

effect_problems(st) := {sprintf("has Effect %s; it must be exactly \"Allow\" or \"Deny\"", [json.marshal(effect)]) |
	effect := object.get(st, "Effect", null)
	not effect in {"Allow", "Deny"}
}

lacks(st, a, b) if not kms.has_element(st, a, b)

# Principals KMS rejects (MalformedPolicyDocument): a list at the top of Principal,
# an AWS principal that is neither "*", an account id nor an ARN, and an IAM or STS
# ARN whose account is not 12 digits. Values with an unresolved ${...} are not judged,
# nor bare names in CloudFormation (`cfn`), where YAML `!Ref Param` arrives as "Param".
# The usual principal shapes first, settled without building any collection: this runs
# for every statement.
principal_problems(st, cfn) := set() if {
	not st.NotPrincipal
	usual_principal(st.Principal)
} else := all_principal_problems(st, cfn)

# "*", a service or other non-AWS principal, or AWS principals that are all IAM or STS
# ARNs with a 12-digit account: KMS accepts these, no closer look needed.
usual_principal(p) if p == "*"

usual_principal(p) if {
	vs := p.AWS
	is_array(vs)
	count([1 |
		some v in vs
		is_string(v)
		parts := split(v, ":")
		count(parts) >= 6
		parts[0] == "arn"
		parts[2] in {"iam", "sts"}
		parts[3] == ""
		count(parts[4]) == 12
		trim(parts[4], "0123456789") == ""
	]) == count(vs)
}

usual_principal(p) if {
	is_string(p.AWS)
	kms.common_aws_principal(p.AWS)
}

usual_principal(p) if {
	is_object(p)
	not p.AWS
}

all_principal_problems(st, cfn) := (principal_list_problems(st) | principal_value_problems(vals, cfn)) | nested_list_problems(vals) if {
	vals := aws_principal_values(st)
}

principal_list_problems(st) := {sprintf("has a %s that is a list; write \"*\" or an object such as {\"AWS\": [...]}, which KMS requires", [key]) |
	some key in ["Principal", "NotPrincipal"]
	p := object.get(st, key, null)
	is_array(p)
	# Not a YAML `!If [cond, a, b]`, which has an object branch or AWS::NoValue.
	count([1 | some e in p; is_object(e)]) == 0
	not "AWS::NoValue" in p
}

principal_value_problems(vals, cfn) := {sprintf("has the principal %s, which is neither \"*\", a 12-digit account id nor an ARN with a 12-digit account, so KMS rejects the policy", [json.marshal(v)]) |
	some v in unusual_principal_texts(vals)
	not kms.valid_aws_principal(v)
	judged(v, cfn)
}

nested_list_problems(vals) := {sprintf("has the principal %s, a list inside the list of principals, so KMS rejects the policy", [json.marshal(v)]) |
	some v in vals
	is_array(v)
	not kms.is_join_form(v)
}

# The values of `AWS` in Principal and NotPrincipal objects.
aws_principal_values(st) := [v |
	some key in ["Principal", "NotPrincipal"]
	p := object.get(st, key, null)
	is_object(p)
	some v in kms.as_list(object.get(p, "AWS", []))
]

# Principal texts that are not in a usual form ("*", an account id, an IAM or STS ARN
# with a 12-digit account). The usual forms are told with built-ins in place: this runs
# for every principal of every statement. CloudFormation intrinsics (`Fn::Join`,
# `Fn::Sub`) count as the text they make, template values as `${Name}`.
unusual_principal_texts(vals) := array.concat(
	[v | some v in vals; is_string(v); not kms.common_aws_principal(v)],
	[v |
		some raw in vals
		not is_string(raw)
		intrinsic_value(raw)
		v := kms.value_string(raw)
		not kms.common_aws_principal(v)
	],
)

intrinsic_value(raw) if not is_array(raw)

intrinsic_value(raw) if kms.is_join_form(raw)

judged(_, false) := true

judged(v, true) if startswith(v, "arn:")

# admin-wildcard-action: kms:* / * / NotAction to a principal that is not an
# account principal (bypasses IAM; includes PutKeyPolicy, ScheduleKeyDeletion).
warn_kms_admin_wildcard_action contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	some s in v.allows
	who := s.non_account
	count(who) > 0
	i := s.index
	st := s.statement
	kms.grants_all_actions(st)
	msg := sprintf(
		"%s grants %s (every KMS action, including PutKeyPolicy and ScheduleKeyDeletion) to %s; grant \"kms:*\" only to the account principal and list the actions these principals need.",
		[kms.statement_subject(d, i, st), kms.actions_label(st), concat(", ", sort(who))],
	)
	result := object.union(kms.finding("admin-wildcard-action", "warn", msg, d, kms.statement_ref(i, st)), kms.admin_wildcard_fix(v, i, st))
}

# cross-account-access: named principals in another account.
warn_kms_cross_account_access contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	d.owner != ""
	some s in v.allows
	who := kms.fact_foreign_principals(s, d.owner)
	count(who) > 0
	i := s.index
	st := s.statement
	msg := sprintf(
		"%s allows %s to %s outside the owner account (%s); confirm this cross-account access is intended and limit it to the operations the other account needs.",
		[kms.statement_subject(d, i, st), kms.actions_label(st), concat(", ", sort(who)), kms.owner_label(d.owner)],
	)
	result := kms.finding("cross-account-access", "warn", msg, d, kms.statement_ref(i, st))
}

# cross-account-access: everyone-principal scoped to other accounts or to a
# whole organization.
warn_kms_cross_account_access contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	d.owner != ""
	some s in v.allows
	count(s.everyone) > 0
	count(s.scoping) > 0
	not kms.fact_scoped_to_owner(s, d.owner)
	i := s.index
	st := s.statement
	msg := sprintf(
		"%s allows %s to any principal admitted by %s, which reaches beyond the owner account (%s); confirm this cross-account or organization-wide access is intended.",
		[kms.statement_subject(d, i, st), kms.actions_label(st), kms.fact_scope_label(s), kms.owner_label(d.owner)],
	)
	result := kms.finding("cross-account-access", "warn", msg, d, kms.statement_ref(i, st))
}

# cross-account-access: owner unknown and several accounts named.
warn_kms_cross_account_access contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	d.owner == ""
	accounts := kms.view_named_accounts(v)
	count(accounts) > 1
	msg := sprintf(
		"%s names principals in several accounts (%s) and the owner account is unknown, so cross-account access cannot be told apart; set data.kms.owner_account (e.g. --data owner.json) to check it.",
		[kms.subject(d.resource), concat(", ", sort(accounts))],
	)
	result := kms.finding("cross-account-access", "warn", msg, d, null)
}

# cross-account-access: `aws kms list-grants` grants to another account.
warn_kms_cross_account_access contains result if {
	some i, g in input.Grants
	data.lib.kms.grants[g]
	owner := kms.grant_owner(g)
	grantee := kms.clean(g.GranteePrincipal)
	kms.principal_account(kms.normalize(grantee))
	account := kms.principal_account(kms.normalize(grantee))
	kms.is_foreign_account(account, owner)
	msg := sprintf(
		"Grant %d (%s) on key %s lets %s in account %s, outside the owner account (%s), perform %s; confirm it is intended or retire it.",
		[i, kms.clean(object.get(g, "GrantId", "?")), kms.clean(object.get(g, "KeyId", "?")), grantee, account, owner, concat(", ", object.get(g, "Operations", []))],
	)
	result := kms.finding("cross-account-access", "warn", msg, {"owner": owner, "at": sprintf("/Grants/%d", [i])}, null)
}

# grant-creation-not-limited-to-aws-services (optional): principals may call
# CreateGrant directly instead of only through AWS services.
warn_kms_grant_creation_not_limited_to_aws_services contains result if {
	kms.optional_check_enabled("grant-creation-not-limited-to-aws-services")
	some v in data.lib.kms.key_policy_views
	d := v.doc
	some s in v.allows
	i := s.index
	st := s.statement
	kms.allows_action(st, "kms:CreateGrant")
	who := kms.fact_non_account_non_service(s)
	count(who) > 0
	not kms.grant_is_for_aws_resource(st)
	msg := sprintf(
		"%s lets %s call kms:CreateGrant (via %s) without the condition Bool kms:GrantIsForAWSResource = true; add that condition so grants can only be created through AWS services.",
		[kms.statement_subject(d, i, st), concat(", ", sort(who)), kms.actions_label(st)],
	)
	result := object.union(kms.finding("grant-creation-not-limited-to-aws-services", "warn", msg, d, kms.statement_ref(i, st)), kms.grant_fix(v, i, st))
}

# service-principal-without-source-condition: an Allow to a service that acts for many
# customers (CloudTrail, CloudWatch Logs, SNS, ...) that no condition ties to the key
# owner's resources, so another account's resource can make the service use the key
# (the confused deputy).
warn_kms_service_principal_without_source_condition contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	some s in v.allows
	count(s.services) > 0
	count(s.scoping) == 0
	who := kms.deputy_principals(s)
	count(who) > 0
	i := s.index
	st := s.statement
	kms.uses_key(st) == true
	not kms.source_scoped(st)
	msg := sprintf(
		"%s allows %s to the service principal %s with no aws:SourceAccount, aws:SourceArn (or kms:ViaService, kms:CallerAccount) condition, so a resource in another account can make the service use this key (confused deputy); add StringEquals aws:SourceAccount or ArnLike aws:SourceArn.",
		[kms.statement_subject(d, i, st), kms.actions_label(st), concat(", ", sort(who))],
	)
	result := object.union(kms.finding("service-principal-without-source-condition", "warn", msg, d, kms.statement_ref(i, st)), kms.source_account_fix(v, s))
}

# admin-and-use-same-principal: one role or user both administers the key
# (PutKeyPolicy, ScheduleKeyDeletion, DisableKey) and may decrypt with it.
warn_kms_admin_and_use_same_principal contains result if {
	some v in data.lib.kms.key_policy_views
	d := v.doc
	grants := kms.role_grants(v)
	count(grants) > 0
	some p in kms.granted_to(grants, "admin") & kms.granted_to(grants, "use")
	admin := [g.fact | some g in grants; g.admin; p in g.who]
	use := [g.fact | some g in grants; g.use; p in g.who]
	not kms.only_all_actions(admin, use)
	msg := sprintf(
		"%s lets %s both administer the key (%s) and decrypt with it (%s); give key administration and key use to different principals (separation of duties).",
		[kms.subject(d.resource), p, kms.statement_labels(admin), kms.statement_labels(use)],
	)
	result := object.union(kms.finding("admin-and-use-same-principal", "warn", msg, d, null), kms.separation_fix(v, p, use))
}

# decrypt-not-scoped (optional): kms:Decrypt to a role or user with neither
# kms:ViaService nor kms:CallerAccount, the least-privilege pattern of AWS's guidance.
warn_kms_decrypt_not_scoped contains result if {
	kms.optional_check_enabled("decrypt-not-scoped")
	some v in data.lib.kms.key_policy_views
	d := v.doc
	some s in v.allows
	who := s.roles
	count(who) > 0
	i := s.index
	st := s.statement
	kms.allows_action(st, "kms:Decrypt")
	not kms.use_scoped(st)
	msg := sprintf(
		"%s lets %s decrypt with the key from anywhere, with neither kms:ViaService nor kms:CallerAccount; limit decryption to the AWS service that uses the key (StringEquals kms:ViaService).",
		[kms.statement_subject(d, i, st), concat(", ", sort(who))],
	)
	result := object.union(kms.finding("decrypt-not-scoped", "warn", msg, d, kms.statement_ref(i, st)), kms.via_service_fix(v, s))
}

# rotation-disabled: symmetric encryption keys without automatic rotation.
warn_kms_rotation_disabled contains result if {
	some k in data.lib.kms.iac_keys
	k.type in {"aws_kms_key", "AWS::KMS::Key"}
	kms.rotatable_key(k)
	kms.is_false_or_absent(k.rotation)
	attr := rotation_attribute[k.type]
	msg := sprintf(
		"KMS key %s does not enable automatic key rotation; set %s to true.",
		[k.resource, attr],
	)
	result := kms.finding("rotation-disabled", "warn", msg, {"resource": k.resource}, null)
}

rotation_attribute := {"aws_kms_key": "enable_key_rotation", "AWS::KMS::Key": "EnableKeyRotation"}

bypass_attribute := {
	"aws_kms_key": "bypass_policy_lockout_safety_check",
	"aws_kms_key_policy": "bypass_policy_lockout_safety_check",
	"AWS::KMS::Key": "BypassPolicyLockoutSafetyCheck",
	"AWS::KMS::ReplicaKey": "BypassPolicyLockoutSafetyCheck",
}

# lockout-safety-check-bypassed: the policy is applied without KMS checking
# that the caller can still manage the key.
warn_kms_lockout_safety_check_bypassed contains result if {
	some k in data.lib.kms.iac_keys
	kms.is_true(k.bypass)
	msg := sprintf(
		"KMS key %s sets %s to true, which lets a key policy lock everyone out of the key; remove it or set it to false.",
		[k.resource, bypass_attribute[k.type]],
	)
	result := kms.finding("lockout-safety-check-bypassed", "warn", msg, {"resource": k.resource}, null)
}

# policy-not-evaluated: a policy this pack cannot see is reported, not passed.
warn_kms_policy_not_evaluated contains result if {
	some u in data.lib.kms.unevaluated_policies
	msg := sprintf(
		"Key policy of %s was not evaluated: %s; check the deployed policy (aws kms get-key-policy) or, for Terraform, a `terraform show -json` plan.",
		[u.resource, u.reason],
	)
	result := kms.finding("policy-not-evaluated", "warn", msg, {"resource": u.resource}, null)
}
