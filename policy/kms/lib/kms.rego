# Shared helpers of the built-in AWS KMS key-policy pack.
#
# Kept out of `package main` so they never collide with a user's own rules and
# can be imported (`import data.lib.kms`) to write further KMS checks.
#
# Portability rules followed here (OPA and regorus, interpreter and RVM):
# no `with`, no `walk`, no `print`, no `not f(x.missing)` (use object.get to
# read optional fields before passing them to a function).
package lib.kms

import rego.v1

# ---------------------------------------------------------------- settings

# Stands for "the account that owns the key" when the input refers to it
# symbolically (CloudFormation AWS::AccountId, Terraform aws_caller_identity).
owner_token := "(owner)"

configured_owner := o if {
	o := data.kms.owner_account
	is_string(o)
	o != ""
}

optional_check_enabled(id) if {
	some c in data.kms.optional_checks
	c == id
}

kms_tf_types := {"aws_kms_key", "aws_kms_key_policy"}

kms_cfn_types := {"AWS::KMS::Key", "AWS::KMS::ReplicaKey"}

max_policy_bytes := 32768

# ------------------------------------------------------------ input shapes

# A raw key policy: the file itself, or `get-key-policy --query Policy --output text`.
input_is_raw_policy if {
	is_object(input)
	"Statement" in object.keys(input)
}

input_is_raw_policy if {
	is_object(input)
	input.Version in {"2012-10-17", "2008-10-17"}
	not input_is_other_shape
}

input_is_other_shape if input_is_get_key_policy

input_is_other_shape if input_is_grant_list

input_is_other_shape if input_is_tf_plan

input_is_other_shape if input_is_cfn

input_is_other_shape if input_is_hcl

# `aws kms get-key-policy --output json`: {"Policy": "<json text>", "PolicyName": ...}
input_is_get_key_policy if {
	is_object(input)
	"Policy" in object.keys(input)
	not "Statement" in object.keys(input)
}

# `aws kms list-grants`
input_is_grant_list if is_array(input.Grants)

# `terraform show -json` of a plan or of a state.
input_is_tf_plan if is_object(input.planned_values)

input_is_tf_plan if is_array(input.resource_changes)

input_is_tf_plan if {
	is_string(input.terraform_version)
	is_object(input.values)
}

# CloudFormation template (JSON or YAML).
input_is_cfn if is_object(input.Resources)

# Terraform source through conftest's hcl2 parser.
input_is_hcl if is_object(input.resource)

# ----------------------------------------------------- policy text sources

# Every policy text found in the input: {resource, source, text, hint, at}.
# `hint` is an owner account known from the surrounding document, or "". `at` is the JSON
# pointer of the policy in the input, for fixes (null where a fix cannot say where).
policy_texts contains {"resource": "", "source": "get-key-policy", "text": input.Policy, "hint": "", "at": "/Policy"} if {
	input_is_get_key_policy
	is_string(input.Policy)
}

policy_texts contains {"resource": r.address, "source": "terraform-plan", "text": r.values.policy, "hint": plan_owner, "at": pointer_below(r.at, "policy")} if {
	some r in plan_kms_resources
	is_string(r.values.policy)
}

policy_texts contains {"resource": b.address, "source": "terraform", "text": b.body.policy, "hint": "", "at": pointer_below(b.at, "policy")} if {
	some b in hcl_kms_blocks
	is_string(b.body.policy)
	not is_hcl_expression(b.body.policy)
	not is_partly_interpolated(b.body.policy)
}

policy_texts contains {"resource": id, "source": "cloudformation", "text": r.Properties.KeyPolicy, "hint": "", "at": cfn_key_policy_at(id)} if {
	some id, r in cfn_kms_resources
	is_string(r.Properties.KeyPolicy)
}

# Every policy document found in the input: {resource, source, policy, text, hint, at}.
policy_documents contains {"resource": "", "source": "policy", "policy": input, "text": json.marshal(input), "hint": "", "at": ""} if {
	input_is_raw_policy
}

policy_documents contains {"resource": "", "source": "get-key-policy", "policy": input.Policy, "text": json.marshal(input.Policy), "hint": "", "at": "/Policy"} if {
	input_is_get_key_policy
	is_object(input.Policy)
}

policy_documents contains {"resource": t.resource, "source": t.source, "policy": json.unmarshal(t.text), "text": t.text, "hint": t.hint, "at": t.at} if {
	some t in policy_texts
	json.is_valid(t.text)
}

policy_documents contains {"resource": id, "source": "cloudformation", "policy": kp, "text": json.marshal(kp), "hint": "", "at": cfn_key_policy_at(id)} if {
	some id, r in cfn_kms_resources
	kp := r.Properties.KeyPolicy
	is_object(kp)
	not is_cfn_intrinsic(kp)
}

# A template's logical ids are alphanumeric: no pointer escaping needed.
cfn_key_policy_at(id) := sprintf("/Resources/%s/Properties/KeyPolicy", [id])

pointer_below(at, key) := sprintf("%s/%s", [at, key]) if is_string(at)
else := null

# Policy texts that are not JSON: reported as malformed-policy.
unreadable_policies contains t if {
	some t in policy_texts
	not json.is_valid(t.text)
}

unreadable_policies contains {"resource": "", "source": "get-key-policy", "text": json.marshal(input.Policy), "hint": ""} if {
	input_is_get_key_policy
	not is_string(input.Policy)
	not is_object(input.Policy)
}

# Policies this pack cannot see (Terraform expressions, values unknown at
# plan time, CloudFormation conditions): reported, never passed as clean.
unevaluated_policies contains {"resource": b.address, "reason": sprintf("its policy is the Terraform expression %s, which conftest's HCL parser does not evaluate", [short(b.body.policy)])} if {
	some b in hcl_kms_blocks
	is_string(b.body.policy)
	is_hcl_expression(b.body.policy)
}

unevaluated_policies contains {"resource": r.address, "reason": "its policy is not known until apply (computed from values unknown at plan time)"} if {
	some r in plan_kms_resources
	not is_string(object.get(r.values, "policy", null))
	object.get(r.unknown, "policy", false) == true
	plan_policy_configured(r)
}

unevaluated_policies contains {"resource": id, "reason": sprintf("its KeyPolicy is the intrinsic function %s", [concat(", ", object.keys(kp))])} if {
	some id, r in cfn_kms_resources
	kp := r.Properties.KeyPolicy
	is_object(kp)
	is_cfn_intrinsic(kp)
}

unevaluated_policies contains {"resource": b.address, "reason": sprintf("its policy contains the Terraform interpolation %s, which conftest's HCL parser does not evaluate", [short(interpolation)])} if {
	some b in hcl_kms_blocks
	is_string(b.body.policy)
	not is_hcl_expression(b.body.policy)
	is_partly_interpolated(b.body.policy)
	interpolation := regex.find_n(`\$\{[^}]*\}?`, b.body.policy, 1)[0]
}

unevaluated_policies contains {"resource": d.resource, "reason": sprintf("its statement %d depends on %d CloudFormation conditions, more than the %d whose combinations are evaluated", [template_index(i, st), n, max_statement_conditions])} if {
	count(cfn_condition_names) > max_statement_conditions
	some d in policy_documents
	d.source == "cloudformation"
	is_array(object.get(d.policy, "Statement", null))
	some i, st in expand_conditions(d.policy.Statement)
	n := count({s.cond | some s in value_sites(st)})
	n > max_statement_conditions
}

# Go's `\s` spelled out (ASCII) so that every engine reads the pattern alike.
is_hcl_expression(s) if regex.match(`^[\t\n\f\r ]*\$\{(?s:.)*\}[\t\n\f\r ]*$`, s)

# A heredoc that is JSON only once Terraform has filled in an interpolation
# (`"AWS": ${jsonencode(var.admins)}`): it cannot be read here.
is_partly_interpolated(s) if {
	contains(s, "${")
	not json.is_valid(s)
}

is_cfn_intrinsic(obj) if {
	some k, _ in obj
	startswith(k, "Fn::")
}

is_cfn_intrinsic(obj) if obj.Ref

short(s) := clean(s) if {
	count(s) <= 60
} else := sprintf("%s...", [clean(substring(s, 0, 60))]) if {
	count(s) > 60
}

# ---------------------------------------------------------------- terraform

# Resources of a module tree (`terraform show -json`); child modules are
# followed to a fixed depth of 5 because the RVM cannot run walk().
tf_module_resources(root) := (((({r | some r in object.get(root, "resources", [])} | {r |
	some m1 in object.get(root, "child_modules", [])
	some r in object.get(m1, "resources", [])
}) | {r |
	some m1 in object.get(root, "child_modules", [])
	some m2 in object.get(m1, "child_modules", [])
	some r in object.get(m2, "resources", [])
}) | {r |
	some m1 in object.get(root, "child_modules", [])
	some m2 in object.get(m1, "child_modules", [])
	some m3 in object.get(m2, "child_modules", [])
	some r in object.get(m3, "resources", [])
}) | {r |
	some m1 in object.get(root, "child_modules", [])
	some m2 in object.get(m1, "child_modules", [])
	some m3 in object.get(m2, "child_modules", [])
	some m4 in object.get(m3, "child_modules", [])
	some r in object.get(m4, "resources", [])
}) | {r |
	some m1 in object.get(root, "child_modules", [])
	some m2 in object.get(m1, "child_modules", [])
	some m3 in object.get(m2, "child_modules", [])
	some m4 in object.get(m3, "child_modules", [])
	some m5 in object.get(m4, "child_modules", [])
	some r in object.get(m5, "resources", [])
}

plan_change_addresses := {rc.address | some rc in input.resource_changes}

# One entry per resource address: resource_changes wins over planned_values
# (a plan holds the same policy in both).
plan_kms_resources contains {"address": rc.address, "type": rc.type, "values": rc.change.after, "unknown": object.get(rc.change, "after_unknown", {}), "at": sprintf("/resource_changes/%d/change/after", [k])} if {
	input_is_tf_plan
	some k, rc in input.resource_changes
	rc.mode == "managed"
	kms_tf_types[rc.type]
	is_object(rc.change.after)
}

plan_kms_resources contains {"address": r.address, "type": r.type, "values": r.values, "unknown": {}, "at": null} if {
	input_is_tf_plan
	some r in tf_module_resources(input.planned_values.root_module)
	object.get(r, "mode", "managed") == "managed"
	kms_tf_types[r.type]
	not plan_change_addresses[r.address]
	is_object(r.values)
}

plan_kms_resources contains {"address": r.address, "type": r.type, "values": r.values, "unknown": {}, "at": null} if {
	input_is_tf_plan
	not input.planned_values
	some r in tf_module_resources(input.values.root_module)
	object.get(r, "mode", "managed") == "managed"
	kms_tf_types[r.type]
	is_object(r.values)
}

# Account ids of data.aws_caller_identity read during the plan.
plan_caller_accounts contains a if {
	input_is_tf_plan
	some root in [
		object.get(object.get(input, "prior_state", {}), "values", {}),
		object.get(input, "planned_values", {}),
		object.get(input, "values", {}),
	]
	some r in tf_module_resources(object.get(root, "root_module", {}))
	r.type == "aws_caller_identity"
	a := r.values.account_id
	is_string(a)
}

default plan_owner := ""

plan_owner := a if {
	count(plan_caller_accounts) == 1
	a := min(plan_caller_accounts)
}

# Configuration addresses (indices stripped) of resources that set `policy`.
config_policy_addresses contains r.address if {
	some r in input.configuration.root_module.resources
	r.expressions.policy
}

config_policy_addresses contains sprintf("module.%s.%s", [n1, r.address]) if {
	some n1, c1 in input.configuration.root_module.module_calls
	some r in c1.module.resources
	r.expressions.policy
}

config_policy_addresses contains sprintf("module.%s.module.%s.%s", [n1, n2, r.address]) if {
	some n1, c1 in input.configuration.root_module.module_calls
	some n2, c2 in c1.module.module_calls
	some r in c2.module.resources
	r.expressions.policy
}

# A key without a `policy` argument gets the AWS default policy; only a
# configured-but-unknown policy (or no configuration to tell) is unevaluated.
plan_policy_configured(r) if r.type == "aws_kms_key_policy"

plan_policy_configured(r) if config_policy_addresses[regex.replace(r.address, `\[[^\]]*\]`, "")]

plan_policy_configured(_) if not input.configuration

# ---------------------------------------------------------------- terraform HCL

hcl_kms_blocks contains {"address": sprintf("%s.%s", [t, name]), "type": t, "body": body, "at": sprintf("/resource/%s/%s/%d", [t, name, k])} if {
	input_is_hcl
	some t in kms_tf_types
	some name, blocks in input.resource[t]
	is_array(blocks)
	some k, body in blocks
	is_object(body)
}

hcl_kms_blocks contains {"address": sprintf("%s.%s", [t, name]), "type": t, "body": body, "at": sprintf("/resource/%s/%s", [t, name])} if {
	input_is_hcl
	some t in kms_tf_types
	some name, body in input.resource[t]
	is_object(body)
}

# A module whose source is a KMS module (`terraform-aws-modules/kms/aws`, a local
# `./modules/kms`) and that is given a `policy`: checked as the key's policy.
hcl_kms_blocks contains {"address": sprintf("module.%s", [name]), "type": "module", "body": body, "at": module_at(name, blocks, k)} if {
	is_object(input.module)
	some name, blocks in input.module
	some k, body in as_list(blocks)
	is_kms_module(body)
}

module_at(name, blocks, k) := sprintf("/module/%s/%d", [name, k]) if is_array(blocks)
else := sprintf("/module/%s", [name])

is_kms_module(body) if {
	is_object(body)
	is_string(body.policy)
	regex.match(`(?i)kms`, object.get(body, "source", ""))
}

# ------------------------------------------------------------ cloudformation

cfn_kms_resources[id] := r if {
	input_is_cfn
	some id, r in input.Resources
	kms_cfn_types[r.Type]
}

# ------------------------------------------------------------- key settings

# IaC key attributes normalised across shapes, for rotation and lockout checks.
iac_keys contains {
	"resource": r.address, "type": r.type, "rotation": rotation,
	"spec": object.get(r.values, "customer_master_key_spec", null),
	"usage": object.get(r.values, "key_usage", null),
	"origin": null,
	"store": tf_key_store(r.values),
	"bypass": object.get(r.values, "bypass_policy_lockout_safety_check", null),
} if {
	some r in plan_kms_resources
	rotation := plan_rotation(r)
}

iac_keys contains {
	"resource": b.address, "type": b.type,
	"rotation": object.get(b.body, "enable_key_rotation", null),
	"spec": object.get(b.body, "customer_master_key_spec", null),
	"usage": object.get(b.body, "key_usage", null),
	"origin": null,
	"store": tf_key_store(b.body),
	"bypass": object.get(b.body, "bypass_policy_lockout_safety_check", null),
} if {
	some b in hcl_kms_blocks
	b.type != "module"
}

iac_keys contains {
	"resource": id, "type": r.Type,
	"rotation": object.get(props, "EnableKeyRotation", null),
	"spec": object.get(props, "KeySpec", null),
	"usage": object.get(props, "KeyUsage", null),
	"origin": object.get(props, "Origin", null),
	"store": null,
	"bypass": object.get(props, "BypassPolicyLockoutSafetyCheck", null),
} if {
	some id, r in cfn_kms_resources
	props := object.get(r, "Properties", {})
}

plan_rotation(r) := "${unknown}" if {
	object.get(r.unknown, "enable_key_rotation", false) == true
} else := object.get(r.values, "enable_key_rotation", null) if {
	object.get(r.unknown, "enable_key_rotation", false) != true
}

tf_key_store(v) := stores[0] if {
	stores := tf_key_stores(v)
	count(stores) > 0
} else := null if {
	count(tf_key_stores(v)) == 0
}

tf_key_stores(v) := [s |
	some s in [object.get(v, "custom_key_store_id", null), object.get(v, "xks_key_id", null)]
	is_string(s)
	s != ""
]

is_true(v) if v == true

is_true(v) if {
	is_string(v)
	lower(v) == "true"
}

is_false_or_absent(v) if v == null

is_false_or_absent(v) if v == false

is_false_or_absent(v) if {
	is_string(v)
	lower(v) == "false"
}

# Symmetric encryption keys in AWS-managed key material: the only keys that
# support automatic rotation (HMAC, asymmetric, imported, custom-store excluded).
rotatable_key(k) if {
	k.spec in {null, "SYMMETRIC_DEFAULT"}
	k.usage in {null, "ENCRYPT_DECRYPT"}
	k.origin in {null, "AWS_KMS"}
	k.store == null
}

# ------------------------------------------------------------------ grants

grants contains g if {
	input_is_grant_list
	some g in input.Grants
	is_object(g)
}

grant_owner(g) := configured_owner if {
	configured_owner
} else := a if {
	not configured_owner
	arn_account(object.get(g, "KeyId", ""))
	a := arn_account(object.get(g, "KeyId", ""))
} else := a if {
	not configured_owner
	not arn_account(object.get(g, "KeyId", ""))
	arn_account(object.get(g, "IssuingAccount", ""))
	a := arn_account(object.get(g, "IssuingAccount", ""))
}

# --------------------------------------------------------- key policy docs

statement_list(p) := cfn_expand(expand_conditions(p.Statement)) if {
	is_array(p.Statement)
} else := cfn_expand(expand_conditions([p.Statement])) if {
	is_object(p.Statement)
} else := [] if {
	is_object(p)
	not is_array(object.get(p, "Statement", null))
	not is_object(object.get(p, "Statement", null))
} else := [] if {
	not is_object(p)
}

# A statement written as a CloudFormation condition, `{"Fn::If": [cond, a, b]}` or
# YAML `!If [cond, a, b]` (a three-element array once read), stands for each branch
# that is not AWS::NoValue: CloudFormation keeps one of them. In a list with such a
# statement, every statement object carries `__cfn` (its index in the template and the
# condition it depends on) for the messages.
expand_conditions(sts) := sts if {
	# Built-ins only on the common path: every statement an object with no Fn::If.
	count([1 | some st in sts; not is_object(st)]) == 0
	count([1 | some st in sts; st["Fn::If"]]) == 0
} else := sts if {
	count([1 | some st in sts; cfn_if(st)]) == 0
} else := [b |
	some i, st in sts
	some b in statement_branches(i, st)
]

statement_branches(i, st) := [object.union(st, {"__cfn": {"index": i, "when": ""}})] if {
	is_object(st)
	count([1 | cfn_if(st)]) == 0
} else := [st] if {
	not is_object(st)
	count([1 | cfn_if(st)]) == 0
} else := [object.union(b, {"__cfn": {"index": i, "when": w}}) |
	parts := cfn_if(st)
	some k in [1, 2]
	b := parts[k]
	is_object(b)
	not is_no_value(b)
	w := sprintf("when condition %s is %s", [parts[0], {1: "true", 2: "false"}[k]])
]

# [condition, then, else] of a conditional statement.
cfn_if(st) := st["Fn::If"] if {
	is_object(st)
	count(st) == 1
	is_array(st["Fn::If"])
	count(st["Fn::If"]) == 3
	is_string(st["Fn::If"][0])
} else := st if {
	is_array(st)
	count(st) == 3
	is_string(st[0])
	count([1 | some k in [1, 2]; branch_value(st[k])]) == 2
	count([1 | some k in [1, 2]; is_object(st[k]); not is_no_value(st[k])]) > 0
}

branch_value(v) if is_object(v)

branch_value(v) if is_no_value(v)

is_no_value(v) if v == "AWS::NoValue"

is_no_value(v) if v == {"Ref": "AWS::NoValue"}

# CloudFormation conditions inside a statement's values (`Principal: {AWS: !If [c, a, b]}`,
# an `!If` element of an Action list, `Condition: !If [...]`): each combination of the
# conditions a statement names is one possible statement, labelled in `__cfn.when`. Applied
# twice (cfn_expand), so that an `!If` inside a branch is expanded too. Templates with no
# Conditions section cannot use `!If`, so everything else takes cfn_expand's first branch.
cfn_expand(sts) := sts if {
	count(cfn_condition_names) == 0
} else := expand_values(expand_values(sts))

expand_values(sts) := sts if {
	count([1 | some st in sts; count(value_sites(st)) > 0]) == 0
} else := [v |
	some i, st in sts
	some v in statement_variants(i, st, value_sites(st))
]

# At most 2^6 variants of one statement; a statement with more conditions is reported
# as not evaluated (see unevaluated_policies) rather than expanded without bound.
max_statement_conditions := 6

statement_variants(i, st, sites) := [st] if {
	not is_object(st)
} else := [object.union(st, {"__cfn": {"index": template_index(i, st), "when": cfn_when(st)}})] if {
	count(sites) == 0
} else := [] if {
	count({s.cond | some s in sites}) > max_statement_conditions
} else := [object.union(json.patch(st, site_ops(sites, a)), {"__cfn": {"index": template_index(i, st), "when": variant_when(st, a)}}) |
	names := sort({s.cond | some s in sites})
	# A literal range: 2^6 = 64 assignments at most (max_statement_conditions).
	some k in numbers.range(0, 63)
	k < bits.lsh(1, count(names))
	a := {n: on | some j, n in names; on := bits.and(k, bits.lsh(1, j)) == 0}
]

# The outermost conditional values of a statement: [{path, cond, branches: [then, else]}].
# Values up to four levels down (`Condition.StringEquals.key[0]`), as [path, value]: the
# bytecode VM has no `walk`.
value_sites(st) := outermost_sites([{"path": e[0], "cond": parts[0], "branches": [parts[1], parts[2]]} |
	l1 := [[[k], v] | is_object(st); some k, v in st; k != "__cfn"]
	l2 := descend(l1)
	l3 := descend(l2)
	some e in array.concat(array.concat(l1, l2), array.concat(l3, descend(l3)))
	parts := cfn_if_value(e[1])
])

descend(level) := [[array.concat(e[0], [k]), c] | some e in level; is_collection(e[1]); some k, c in e[1]]

is_collection(v) if is_object(v)

is_collection(v) if is_array(v)

outermost_sites(sites) := [s | some s in sites; not nested_site(s, sites)]

nested_site(s, sites) if {
	some t in sites
	count(t.path) < count(s.path)
	array.slice(s.path, 0, count(t.path)) == t.path
}

# `{"Fn::If": [cond, a, b]}`, or YAML's `!If [cond, a, b]` read as a three-element
# list whose first element names a condition of the template.
cfn_if_value(v) := v["Fn::If"] if {
	is_object(v)
	count(v) == 1
	is_array(v["Fn::If"])
	count(v["Fn::If"]) == 3
	is_string(v["Fn::If"][0])
} else := v if {
	is_array(v)
	count(v) == 3
	is_string(v[0])
	v[0] in cfn_condition_names
}

# JSON Patch operations choosing one branch per condition: a chosen AWS::NoValue
# removes the value (array elements from the last, so that indexes stay valid).
site_ops(sites, a) := array.concat(
	[{"op": "replace", "path": s.path, "value": b} |
		some s in sites
		b := s.branches[branch_position(a[s.cond])]
		not is_no_value(b)
	],
	[{"op": "remove", "path": p} |
		some p in array.reverse(sort([s.path |
			some s in sites
			is_no_value(s.branches[branch_position(a[s.cond])])
		]))
	],
)

# The branch an assignment takes: then (0) when the condition is true, else (1).
branch_position(on) := i if i := {true: 0, false: 1}[on]

cfn_when(st) := object.get(object.get(st, "__cfn", {}), "when", "") if is_object(st)

variant_when(st, a) := sprintf("when %s", [concat(" and ", array.concat(
	[trim_prefix(w, "when ") | w := cfn_when(st); w != ""],
	[sprintf("condition %s is %s", [n, sprintf("%v", [a[n]])]) | some n in sort(object.keys(a))],
))])

# Template condition names: a YAML `!If [Name, a, b]` is told from a list by its first element.
cfn_condition_names := {k | some k, _ in input.Conditions} if {
	is_object(input.Conditions)
} else := set()

# The conditions of a statement that a direct call (an administrator calling KMS
# itself, not through a service) can never meet: with only such a delegation, IAM
# policies cannot let anyone manage the key (PutKeyPolicy, ScheduleKeyDeletion).
direct_call_blockers(conds) := set() if {
	count(conds) == 0
} else := {sprintf("%s %s", [c.raw_op, c.raw_key]) |
	some c in conds
	positive_operators[c.op]
	not c.ifexists
	c.key in {"kms:viaservice", "aws:calledvia", "aws:calledviafirst", "aws:calledvialast"}
} | {sprintf("%s %s", [c.raw_op, c.raw_key]) |
	some c in conds
	c.op == "Bool"
	not c.ifexists
	c.key == "kms:grantisforawsresource"
	c.values == ["true"]
}

# The owner's account principal is allowed only under such conditions.
view_conditioned_delegation(v) := {b |
	some s in v.allows
	count(s.blockers) > 0
	some e in s.entries
	e.acct != null
	owner_or_possibly(e.acct, v.doc.owner)
	delegation_statement(s.statement)
	some b in s.blockers
}

# An Allow statement's actions include some KMS action (`"kms:"` names none);
# NotAction allows everything not listed. The first action settles the usual case.
kms_action_granted(st) := true if {
	st.Action == "kms:*"
} else := true if {
	st.Action == "*"
} else := true if {
	not "Action" in object.keys(st)
} else := true if {
	is_string(st.Action)
	names_kms_actions(st.Action)
} else := true if {
	names_kms_actions(st.Action[0])
} else := count([1 | some a in as_list(st.Action); names_kms_actions(a)]) > 0

names_kms_actions(a) if not is_string(a)

names_kms_actions(a) if a == "*"

# `kms:` and one or more letters or wildcards, any case: string built-ins, not a regex,
# on this per-action path (regorus gives each regex.match call a cold matcher).
names_kms_actions(a) if {
	lower(substring(a, 0, 4)) == "kms:"
	rest := lower(substring(a, 4, -1))
	rest != ""
	trim_left(rest, "abcdefghijklmnopqrstuvwxyz*?") == ""
}

# The usual principal forms, tested without a regex: "*", an account id, and an IAM or
# STS ARN with a 12-digit account.
common_aws_principal(v) if v == "*"

common_aws_principal(v) if is_digits12(v)

common_aws_principal(v) if {
	startswith(v, "arn:")
	parts := split(v, ":")
	count(parts) >= 6
	parts[2] in {"iam", "sts"}
	parts[3] == ""
	is_digits12(parts[4])
}

# "*", a 12-digit account id, or an ARN (an IAM or STS one with a 12-digit account).
# A template value (`${AWS::AccountId}`, `${OtherAccount}`) stands for something valid in
# its place; the literal parts around it must still be valid (`arn:${AWS::Partition}:
# iam::12345678:root` is not).
valid_aws_principal(v) if {
	contains(v, "${")
	valid_literal_principal(regex.replace(v, `\$\{[^}]*\}`, "000000000000"))
}

valid_aws_principal(v) if {
	not contains(v, "${")
	valid_literal_principal(v)
}

valid_literal_principal(v) if v == "*"

valid_literal_principal(v) if regex.match(`^[0-9]{12}$`, v)

valid_literal_principal(v) if {
	startswith(v, "arn:")
	not regex.match(`^arn:[^:]*:(iam|sts)::`, v)
}

valid_literal_principal(v) if regex.match(`^arn:[^:]*:(iam|sts)::[0-9]{12}:`, v)

# The one account of a set, or "" when there are none or several.
single_account(accounts) := [a | some a in accounts][0] if {
	count(accounts) == 1
} else := "" if {
	count(accounts) != 1
}

uses_owner_reference(text) if contains(text, "AWS::AccountId")

# The regex only runs on texts that contain its literal prefix (cheap test first).
uses_owner_reference(text) if {
	contains(text, "data.aws_caller_identity.")
	regex.match(`data\.aws_caller_identity\.[A-Za-z0-9_-]+\.account_id`, text)
}

# ------------------------------------------------------------- statements

# is_effective for Allow (the Effect test first: most statements it rejects
# are Deny statements).
is_effective_allow(st) if {
	st.Effect == "Allow"
	is_object(st)
	has_element(st, "Principal", "NotPrincipal")
	has_element(st, "Action", "NotAction")
	has_element(st, "Resource", "NotResource")
}

# `else` rather than two clauses: the second is only tried when needed.
has_element(st, a, b) if present(object.get(st, a, null))
else := true if present(object.get(st, b, null))

present(v) if {
	v != null
	v != []
	v != ""
}

# Once per Allow statement (see allow_fact); Resource "*" settles the usual case.
resource_is_this_key(st) := true if {
	st.Resource == "*"
} else := count([1 | applies_to_this_key(st)]) > 0

# Resource "*" (or a pattern) = this key; only such statements surely apply.
applies_to_this_key(st) if {
	some r in as_list(object.get(st, "Resource", []))
	is_string(r)
	contains(r, "*")
}

# Lists: a scalar becomes a one-element list; a YAML `!Join [sep, [...]]`
# (which arrives as a two-element array) is one value, not two.
as_list(x) := [x] if not is_array(x)
else := [x] if is_join_form(x)
else := x

is_join_form(x) if {
	is_array(x)
	count(x) == 2
	is_string(x[0])
	is_array(x[1])
}

# ------------------------------------------------------------- values

# A principal or condition value as a string, resolving CloudFormation
# intrinsics in JSON form ({"Ref"}, {"Fn::Sub"}, {"Fn::Join"}, {"Fn::GetAtt"})
# and YAML short form (plain strings, `!Join` as [sep, [parts]]).
value_string(v) := v if is_string(v)

# Every other form in a separate function, so that the common string case
# does not evaluate each of their clauses.
else := value_string_other(v) if {
	value_string_other(v) # guard: the RVM mishandles `x := f()` when f is undefined
}

value_string_other(v) := format_int(v, 10) if {
	is_number(v)
} else := "true" if {
	v == true
} else := "false" if {
	v == false
} else := sprintf("${%s}", [v.Ref]) if {
	is_string(v.Ref)
} else := v["Fn::Sub"] if {
	is_string(v["Fn::Sub"])
} else := v["Fn::Sub"][0] if {
	is_array(v["Fn::Sub"])
} else := concat(".", v["Fn::GetAtt"]) if {
	is_array(v["Fn::GetAtt"])
} else := concat(v["Fn::Join"][0], [cfn_part(p) | some p in v["Fn::Join"][1]; cfn_part(p)]) if {
	is_array(v["Fn::Join"])
} else := concat(v[0], [cfn_part(p) | some p in v[1]; cfn_part(p)]) if {
	is_join_form(v)
} else := "${unknown}" if {
	# Other intrinsics (Fn::If, Fn::ImportValue, ...): a value this pack cannot know.
	is_object(v)
	count({k | some k in object.keys(v); k in known_intrinsics}) == 0
}

known_intrinsics := {"Ref", "Fn::Sub", "Fn::GetAtt", "Fn::Join"}

# YAML `!Ref AWS::AccountId` or `!Ref Param` inside `!Join` arrives as the bare name.
cfn_part(p) := sprintf("${%s}", [p]) if {
	p in cfn_pseudo_parameters
} else := sprintf("${%s}", [p]) if {
	p in cfn_parameter_names
} else := p if {
	is_string(p)
	not p in cfn_pseudo_parameters
	not p in cfn_parameter_names
} else := sprintf("${%s}", [p.Ref]) if {
	is_string(p.Ref)
} else := p["Fn::Sub"] if {
	is_string(p["Fn::Sub"])
} else := "${unknown}" if {
	not is_string(p)
	not is_string(object.get(p, "Ref", null))
	not is_string(object.get(p, "Fn::Sub", null))
}

cfn_pseudo_parameters := {"AWS::AccountId", "AWS::Partition", "AWS::Region", "AWS::URLSuffix", "AWS::StackName", "AWS::StackId"}

# Comparison form: partition references become "aws", owner references the
# owner token, so that ARNs can be split on ":".
# Most values have no reference at all: returned as they are, with no replacement.
normalize(s) := s if {
	is_string(s)
	not contains(s, "${")
	s != "AWS::AccountId"
}
else := owner_token if s in {"AWS::AccountId", "${AWS::AccountId}"}

# The Terraform references only need the regexes when "${data." occurs (the
# replacements "aws", "(owner)", "amazonaws.com" cannot create it).
else := strings.replace_n({"${AWS::Partition}": "aws", "${AWS::AccountId}": owner_token, "${AWS::URLSuffix}": "amazonaws.com"}, s) if {
	not contains(s, "${data.")
}

else := regex.replace(
	regex.replace(
		strings.replace_n({"${AWS::Partition}": "aws", "${AWS::AccountId}": owner_token, "${AWS::URLSuffix}": "amazonaws.com"}, s),
		`\$\{data\.aws_caller_identity\.[A-Za-z0-9_-]+\.account_id\}`, owner_token,
	),
	`\$\{data\.aws_partition\.[A-Za-z0-9_-]+\.partition\}`, "aws",
)

# One function (no helper) as it runs for every principal and condition value.
clean(s) := s if {
	is_string(s)
	not contains(s, "\n")
	not contains(s, "\r")
	not contains(s, "\t")
} else := regex.replace(s, `[\t\r\n]+`, " ")

# ------------------------------------------------------------- accounts

account_pattern := `^([0-9]{12}|\(owner\)|\$\{[^}]*\})$`

partition_pattern := `^(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*|\$\{[^}]*\})$`

account_principal_or_null(n) := n if {
	# is_digits12 inline: this runs for every principal.
	is_string(n)
	count(n) == 12
	trim(n, "0123456789") == ""
}
else := n if n == owner_token
else := root_arn_account(split(n, ":"))

root_arn_account(parts) := parts[4] if {
	count(parts) == 6
	parts[0] == "arn"
	parts[2] == "iam"
	parts[3] == ""
	parts[5] == "root"
	is_partition(parts[1])
	is_account_field(parts[4])
} else := null

# Account of any IAM/STS principal ARN (root, role, user, assumed-role) or bare id.
principal_account(n) := a if {
	a := account_principal_or_null(n)
	a != null
} else := a if {
	a := iam_principal_account_or_null(n)
	a != null
}

iam_principal_account_or_null(n) := parts[4] if {
	parts := split(n, ":")
	count(parts) >= 6
	parts[0] == "arn"
	parts[2] in {"iam", "sts"}
	parts[5] != "root"
	is_account_field(parts[4])
} else := null

# Account field of any ARN (e.g. a KMS key ARN), if concrete.
arn_account(s) := parts[4] if {
	is_string(s)
	parts := split(normalize(s), ":")
	count(parts) >= 6
	parts[0] == "arn"
	is_digits12(parts[4])
}

is_literal_account(a) if is_digits12(a)

# `^[0-9]{12}$` without a regex: twelve characters, all of them ASCII digits.
is_digits12(s) if {
	is_string(s)
	count(s) == 12
	trim(s, "0123456789") == ""
}

# `account_pattern` without a regex.
is_account_field(a) if is_digits12(a)
else := true if a == owner_token
else := true if {
	is_string(a)
	startswith(a, "${")
	endswith(a, "}")
	count(split(a, "}")) == 2
}

# `partition_pattern`: the common partitions without a regex.
is_partition(p) if p in {"aws", "aws-cn", "aws-us-gov"}
else := true if regex.match(partition_pattern, p)

# Template expressions such as ${var.account_id}: could be the owner.
is_unresolved_account(a) if startswith(a, "${")

is_owner_account(a, _) if a == owner_token

is_owner_account(a, owner) if {
	owner != ""
	a == owner
}

# A literal account that is known not to be the owner, or a parameter
# (`${OtherAccount}`, a value unknown here but concrete) where the owner is known.
is_foreign_account(a, owner) if {
	owner != ""
	is_literal_account(a)
	a != owner
}

is_foreign_account(a, owner) if {
	startswith(a, "${")
	owner != ""
	is_parameter_reference(a)
}

# `${Name}` for a template parameter or variable: not the owner token, not an
# unknowable intrinsic (`${unknown}`), not a pseudo parameter.
is_parameter_reference(a) if {
	is_unresolved_account(a)
	is_account_field(a)
	a != "${unknown}"
	not contains(a, "AWS::")
}

# CloudFormation parameter names: in YAML, `!Ref OrgId` arrives as "OrgId".
cfn_parameter_names := {k | some k, _ in input.Parameters} if {
	is_object(input.Parameters)
} else := set()

# ------------------------------------------------------------- principals

is_not_principal_allow(st) if {
	st.Effect == "Allow"
	present(object.get(st, "NotPrincipal", null))
}

# ------------------------------------------------------------- actions

actions(st) := {lower(a) | some a in as_list(object.get(st, "Action", [])); is_string(a)}

not_actions(st) := {lower(a) | some a in as_list(object.get(st, "NotAction", [])); is_string(a)}

all_action_patterns := {"*", "kms:*"}

# kms:* / * , or NotAction that does not itself exclude everything.
grants_all_actions(st) if {
	some a in actions(st)
	all_action_patterns[a]
}

grants_all_actions(st) if {
	present(object.get(st, "NotAction", null))
	count(not_actions(st) & all_action_patterns) == 0
}

# True if the statement's actions match a given action (glob, case-insensitive).
allows_action(st, action) if {
	some a in actions(st)
	glob.match(a, [], lower(action))
}

allows_action(st, action) if {
	present(object.get(st, "NotAction", null))
	count([a | some a in not_actions(st); glob.match(a, [], lower(action))]) == 0
}

actions_label(st) := concat(", ", [clean(a) | some a in as_list(st.Action); is_string(a)]) if {
	present(object.get(st, "Action", null))
} else := sprintf("every action except %s", [concat(", ", [clean(a) | some a in as_list(st.NotAction); is_string(a)])]) if {
	not present(object.get(st, "Action", null))
	present(object.get(st, "NotAction", null))
}

# ------------------------------------------------------------- conditions

# {op, key, ifexists, forall, values} per condition key; operators are
# compared by name without ForAnyValue:/ForAllValues: and IfExists, keys
# in lower case, values resolved like principals.
conditions(st) := {c |
	cond := object.get(st, "Condition", {})
	is_object(cond)
	some op, block in cond
	is_object(block)
	some k, vals in block
	c := {
		"op": trim_suffix(trim_prefix(trim_prefix(op, "ForAnyValue:"), "ForAllValues:"), "IfExists"),
		"raw_op": op,
		"key": lower(k),
		"raw_key": k,
		"ifexists": endswith(op, "IfExists"),
		"forall": startswith(op, "ForAllValues:"),
		"values": [normalize(clean(value_string(v))) | some v in as_list(vals); value_string(v)],
	}
}

positive_operators := {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"}

account_keys := {"kms:calleraccount", "aws:principalaccount", "aws:sourceaccount", "aws:sourceowner"}

arn_keys := {"aws:principalarn", "aws:sourcearn"}

org_id_keys := {"aws:principalorgid", "aws:sourceorgid"}

org_path_keys := {"aws:principalorgpaths", "aws:sourceorgpaths"}

# Keys present on every KMS request: only these scope under IfExists/ForAllValues.
always_present_keys := {"kms:calleraccount", "aws:principalaccount", "aws:principalarn"}

scoping_keys := ((account_keys | arn_keys) | org_id_keys) | org_path_keys

# A condition that limits the caller to concrete accounts or organizations.
is_scoping_condition(c) if {
	positive_operators[c.op]
	scoping_keys[c.key]
	not vacuous_when_absent(c)
	count(c.values) > 0
	count([v | some v in c.values; not concrete_scope_value(c.key, v)]) == 0
}

vacuous_when_absent(c) if {
	c.ifexists
	not always_present_keys[c.key]
}

vacuous_when_absent(c) if {
	c.forall
	not always_present_keys[c.key]
}

concrete_scope_value(key, v) if {
	account_keys[key]
	is_account_field(v)
	not contains(v, "*")
}

concrete_scope_value(key, v) if {
	arn_keys[key]
	parts := split(v, ":")
	count(parts) >= 6
	is_account_field(parts[4])
}

concrete_scope_value(key, v) if {
	org_id_keys[key]
	regex.match(`^o-[a-z0-9]+$`, v)
}

# A parameter is unknown here but one concrete value (`!Ref OrgId`).
concrete_scope_value(key, v) if {
	scoping_keys[key]
	is_parameter_reference(v)
}

concrete_scope_value(key, v) if {
	scoping_keys[key]
	v in cfn_parameter_names
}

concrete_scope_value(key, v) if {
	org_path_keys[key]
	regex.match(`^o-[a-z0-9]+/`, v)
}

# Accounts a scoping condition admits (account keys and ARN account fields).
scope_accounts(c) := {v | some v in c.values; account_keys[c.key]} | {a |
	arn_keys[c.key]
	some v in c.values
	count(split(v, ":")) >= 6
	a := split(v, ":")[4]
}

grant_is_for_aws_resource(st) if {
	some c in conditions(st)
	c.op == "Bool"
	not c.ifexists
	c.key == "kms:grantisforawsresource"
	c.values == ["true"]
}

owner_or_possibly(a, owner) if is_owner_account(a, owner)

owner_or_possibly(a, _) if is_unresolved_account(a)

# Owner unknown and the policy names several accounts: one of them is it.
owner_or_possibly(_, owner) if owner == ""

owner_label(o) := "AWS::AccountId" if {
	o == owner_token
} else := o if {
	o != owner_token
}

owner_root_label(o) := "arn:${AWS::Partition}:iam::${AWS::AccountId}:root" if {
	o == owner_token
} else := sprintf("arn:aws:iam::%s:root", [o]) if {
	o != owner_token
}

# ------------------------------------------------------------- results

sid(st) := st.Sid if {
	is_string(st.Sid)
} else := "" if {
	is_object(st)
	not is_string(object.get(st, "Sid", null))
} else := "" if {
	not is_object(st)
}

statement_label(i, st) := sprintf("statement %d (Sid \"%s\")%s", [template_index(i, st), clean(sid(st)), when_label(st)]) if {
	sid(st) != ""
} else := sprintf("statement %d (no Sid)%s", [template_index(i, st), when_label(st)]) if {
	sid(st) == ""
}

# A statement's index in the template (see expand_conditions).
template_index(i, st) := object.get(object.get(st, "__cfn", {}), "index", i) if {
	is_object(st)
} else := i if {
	not is_object(st)
}

when_label(st) := sprintf(" %s", [w]) if {
	is_object(st)
	w := object.get(object.get(st, "__cfn", {}), "when", "")
	w != ""
} else := ""

# "Key policy" or "Key policy of <address>".
subject(resource) := "Key policy" if {
	resource == ""
} else := sprintf("Key policy of %s", [resource]) if {
	resource != ""
}

statement_subject(d, i, st) := sprintf("%s, %s,", [subject(d.resource), statement_label(i, st)])

# A result object: msg, id, severity, plus statement, resource and owner account when
# known. `subject` is the document, or an object with its `resource` and `owner`.
finding(id, severity, msg, subject, statement) := object.union_n([
	{"msg": msg, "id": id, "severity": severity},
	resource_part(object.get(subject, "resource", "")),
	owner_part(object.get(subject, "owner", "")),
	statement_part(statement),
	path_part(object.get(subject, "at", null), object.get(subject, "policy", null), statement),
])

# `path`: a JSON pointer to the statement at fault in the input (regorun shows its line),
# or to the key policy inside a larger document; nothing where the input gives no place.
path_part(at, policy, statement) := {"path": sprintf("%s/Statement/%d", [at, statement.index])} if {
	is_string(at)
	statement != null
	is_array(policy.Statement)
} else := {"path": sprintf("%s/Statement", [at])} if {
	is_string(at)
	statement != null
	is_object(policy.Statement)
} else := {"path": at} if {
	is_string(at)
	at != ""
} else := {}

# The owner as an account id (`--redact` marks it); a template reference is left out.
owner_part(o) := {"owner": o} if {
	is_digits12(o)
} else := {}

resource_part(r) := {"resource": r} if {
	r != ""
} else := {} if {
	r == ""
}

statement_part(s) := {"statement": s} if {
	s != null
} else := {} if {
	s == null
}

statement_ref(i, st) := {"index": template_index(i, st), "sid": clean(sid(st))} if {
	is_object(st)
} else := {"index": i, "sid": ""} if {
	not is_object(st)
}

# UTF-8 size of a text, via base64 (no byte-length builtin is portable).
utf8_bytes(s) := n if {
	b := base64.encode(s)
	n := ((count(b) / 4) * 3) - strings.count(b, "=")
}

# KMS accepts printable ASCII, Latin-1 Supplement, tab, LF and CR only.
# An all-ASCII text (as many UTF-8 bytes as characters) needs no regex.
has_char_above_latin1(s) if {
	utf8_bytes(s) != count(s)
	regex.match(`[^\x{0000}-\x{00FF}]`, s)
}

# ------------------------------------------------- per-statement facts (once)

# Every evaluable key policy with the facts of its effective Allow statements,
# computed once per document so that the checks do not rebuild principal and
# condition lists per check: [{doc, statements, allows, delegates,
# delegation_blockers}], where doc is the policy document (see policy_documents)
# with its owner, statements its statements (see statement_list), allows a list of
# {index, statement, entries, everyone, non_account, scoping, blockers} (see
# allow_fact), and the last two are from with_delegation.
# An array (not a set) so that large documents are not hashed into a set.
key_policy_views := [with_delegation({"doc": object.union(d, {"owner": policy_owner_of(d, allows)}), "statements": sts, "allows": allows}) |
	some d in policy_documents
	sts := statement_list(d.policy)
	count(sts) > 0
	allows := allow_facts(sts)
]

# Whether a view delegates to the owner, and the conditions that block its only
# delegation: worked out once per key policy for the three missing-delegation rules.
with_delegation(v) := object.union(v, {"delegates": true, "delegation_blockers": set()}) if {
	view_delegates_to_owner(v)
} else := object.union(v, {"delegates": false, "delegation_blockers": view_conditioned_delegation(v)})

allow_facts(sts) := [allow_fact(i, st) | some i, st in sts; is_effective_allow(st)]

allow_fact(i, st) := {
	"index": i,
	"statement": st,
	"entries": entries,
	"everyone": facts_everyone(entries, not_principal),
	"non_account": facts_non_account(entries, not_principal),
	"scoping": [c | some c in conds; is_scoping_condition(c)],
	"blockers": direct_call_blockers(conds),
	# Roles and users (not an account, service or everyone), and service principals.
	"roles": {e.raw | some e in entries; e.type == "AWS"; e.acct == null; not contains(e.norm, "*")},
	"services": [e.raw | some e in entries; e.type == "Service"],
} if {
	conds := conditions(st)
	entries := principal_facts(st)
	not_principal := not_principal_labels(st)
}

# Labels of principals that mean "everyone" ("*", {"AWS": "*"}, lists with
# "*", NotPrincipal with Allow), and of principals that are not account
# principals (roles, users, services, federated, everyone). Helper functions:
# inline set-comprehension unions came back undefined in the RVM.
facts_everyone(entries, not_principal) := {e.raw |
	some e in entries
	e.type in {"*", "AWS", "CanonicalUser"}
	contains(e.norm, "*")
} | not_principal

facts_non_account(entries, not_principal) := {e.raw | some e in entries; e.acct == null} | not_principal

not_principal_labels(st) := {"NotPrincipal (everyone except the listed principals)" | is_not_principal_allow(st)}

# {type, raw, norm} for every principal value (Principal "*" has type "*"),
# plus the account of an account principal (acct) and of any IAM/STS
# principal (pacct), each null when there is none or not AWS. A list: its
# readers only build sets from it or test for some entry.
principal_facts(st) := [{"type": "*", "raw": "*", "norm": "*", "acct": null, "pacct": null}] if st.Principal == "*"
else := [entry_fact(t, raw) |
	is_object(st.Principal)
	some t, vs in st.Principal
	some v in as_list(vs)
	value_string(v) # guard: the RVM mishandles `x := f()` when f is undefined
	raw := clean(value_string(v))
]

# Both accounts are worked out once per entry with total functions (null for
# none), so no clause is evaluated twice to guard against undefined.
entry_fact(t, raw) := {"type": t, "raw": raw, "norm": norm, "acct": acct, "pacct": pacct} if {
	norm := normalize(raw)
	acct := entry_account(t, norm)
	pacct := entry_principal_account(t, norm, acct)
}

entry_account(t, norm) := account_principal_or_null(norm) if t == "AWS"
else := null

entry_principal_account(t, norm, acct) := acct if acct != null
else := iam_principal_account_or_null(norm) if t == "AWS"
else := null

# Owner account, in order: --data kms.owner_account, the surrounding document
# (plan caller identity), a symbolic reference in the policy, then the single
# account named by the policy's own account-principal Allow statements.
policy_owner_of(d, allows) := configured_owner if {
	configured_owner
} else := d.hint if {
	not configured_owner
	d.hint != ""
} else := owner_token if {
	not configured_owner
	d.hint == ""
	uses_owner_reference(d.text)
} else := single_account(root_accounts_of(allows)) if {
	not configured_owner
	d.hint == ""
	not uses_owner_reference(d.text)
}

root_accounts_of(allows) := {e.acct |
	some s in allows
	some e in s.entries
	e.acct != null
	is_literal_account(e.acct)
}

# Non-account principals other than services (services create grants for AWS
# resources).
fact_non_account_non_service(s) := {e.raw |
	some e in s.entries
	e.acct == null
	e.type != "Service"
} | not_principal_labels(s.statement)

# AWS principals (Principal, not NotPrincipal) in a literal non-owner account.
fact_foreign_principals(s, owner) := {e.raw |
	some e in s.entries
	e.pacct != null
	is_foreign_account(e.pacct, owner)
}

# Some scoping condition admits only the owner (conditions are ANDed).
fact_scoped_to_owner(s, owner) if {
	some c in s.scoping
	accts := scope_accounts(c)
	count(accts) > 0
	count([a | some a in accts; not is_owner_account(a, owner)]) == 0
}

fact_scope_label(s) := concat("; ", sort([sprintf("%s %s = %s", [c.raw_op, c.raw_key, concat(", ", c.values)]) | some c in s.scoping]))

# The policy allows an account principal that is (or may be) the owner, on
# this key: IAM policies of the owner account take effect.
view_delegates_to_owner(v) if {
	some s in v.allows
	count(s.blockers) == 0
	some e in s.entries
	e.acct != null
	owner_or_possibly(e.acct, v.doc.owner)
	delegation_statement(s.statement)
}

# An account principal's statement delegates only on this key and with some KMS
# action: tested last, for account principals only.
delegation_statement(st) if {
	resource_is_this_key(st)
	kms_action_granted(st)
}

# Where a key policy's statements are in the input, for a fix's JSON Patch paths: the
# document's `at` (see policy_documents). A path that goes on into a string (the `Policy`
# of `aws kms get-key-policy` output, a Terraform heredoc, a plan's policy) makes regorun
# patch the JSON in that string. Null where the fix cannot say where.
fix_prefix(v) := v.doc.at if {
	is_string(v.doc.at)
	is_array(v.doc.policy.Statement)
} else := null

# A statement written as it is in the template (not a branch of a CloudFormation
# condition, nor a variant of one): the only kind a fix may patch.
plain_statement(st) if cfn_when(st) == ""

# The path of statement i of a view's policy, by its index in the input.
statement_path(prefix, i, st) := sprintf("%s/Statement/%d", [prefix, template_index(i, st)])

# The fix for a key policy without the owner's delegation (a result's `fix`: a JSON Patch
# against the input): append the statement of AWS's default key policy, where fix_prefix
# finds the statements; otherwise no fix.
delegation_fix(v) := {"fix": [{"op": "add", "path": sprintf("%s/Statement/-", [prefix]), "value": root_statement(account)}], "fix_title": title} if {
	prefix := fix_prefix(v)
	prefix != null
	[account, title] := delegation_account(v)
} else := {}

# The fix for an everyone principal in statement i of a key policy given as the input:
# a statement for AWS services (it has kms:ViaService) keeps its principal and gains
# kms:CallerAccount = the owner; any other gets the owner account's root principal.
wildcard_fix(v, i, st) := {"fix": ops, "fix_title": title} if {
	prefix := fix_prefix(v)
	prefix != null
	plain_statement(st)
	[account, _] := delegation_account(v)
	[ops, title] := wildcard_ops(statement_path(prefix, i, st), st, account)
} else := {}

wildcard_ops(at, st, account) := [[caller_account_op(at, st, account_id_value(account))], sprintf("keep the principal for AWS services and limit it to callers in %s (kms:CallerAccount)", [account_label(account)])] if {
	is_service_statement(st)
} else := [[{"op": "replace", "path": sprintf("%s/Principal", [at]), "value": {"AWS": account_root(account)}}], sprintf("allow %s (its IAM policies then decide who may use the key) instead of everyone", [account_label(account)])] if {
	st.Principal == "*"
} else := [[{"op": "replace", "path": sprintf("%s/Principal/AWS", [at]), "value": account_root(account)}], sprintf("allow %s (its IAM policies then decide who may use the key) instead of everyone", [account_label(account)])] if {
	st.Principal.AWS == "*"
}

# A statement that lets AWS services use the key for callers (kms:ViaService).
is_service_statement(st) if {
	some c in conditions(st)
	c.key == "kms:viaservice"
}

caller_account_op(at, st, account) := string_equals_op(at, st, "kms:CallerAccount", account)

# Adds `StringEquals` key = value to the statement at `at`, beside its other conditions.
string_equals_op(at, st, key, value) := {"op": "add", "path": sprintf("%s/Condition/StringEquals/%s", [at, key]), "value": value} if {
	is_object(st.Condition.StringEquals)
} else := {"op": "add", "path": sprintf("%s/Condition/StringEquals", [at]), "value": {key: value}} if {
	is_object(st.Condition)
} else := {"op": "add", "path": sprintf("%s/Condition", [at]), "value": {"StringEquals": {key: value}}}

# The fix for kms:* (or *) to principals that are not the account, in statement i of a
# key policy given as the input: the action list of AWS's default key policy for key
# administrators (no cryptographic actions) when the Sid or a principal says admin, else
# the list for key users. A NotAction statement gets no fix, nor does a statement whose
# principal is meant as an account root (a malformed one is its own finding: the
# statement is a delegation to repair, not a role to narrow).
admin_wildcard_fix(v, i, st) := {"fix": [{"op": "replace", "path": sprintf("%s/Action", [statement_path(prefix, i, st)]), "value": actions}], "fix_title": title} if {
	prefix := fix_prefix(v)
	prefix != null
	plain_statement(st)
	not contains(json.marshal(object.get(st, "Principal", "")), ":root")
	st.Action
	[actions, title] := role_actions(st)
} else := {}

role_actions(st) := [key_administrator_actions, "list the key administrator actions of AWS's default key policy (no cryptographic actions) instead of every KMS action"] if {
	contains(lower(json.marshal([object.get(st, "Sid", ""), object.get(st, "Principal", "")])), "admin")
} else := [key_user_actions, "list the key user actions of AWS's default key policy (encrypt, decrypt, data keys) instead of every KMS action"]

key_administrator_actions := [
	"kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
	"kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
	"kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
]

key_user_actions := ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]

# The fix for grant creation not limited to AWS services, in statement i of a key policy
# given as the input. The condition would also block the statement's other actions (their
# requests have no kms:GrantIsForAWSResource), so a statement of grant actions only gains
# it, and any other keeps its other actions and hands the grant actions to a new
# statement with the condition, as AWS's default key policy does.
grant_fix(v, i, st) := {"fix": ops, "fix_title": title} if {
	prefix := fix_prefix(v)
	prefix != null
	plain_statement(st)
	st.Action
	acts := as_list(st.Action)
	grant_acts := [a | some a in acts; is_string(a); lower(a) in grant_actions]
	count(grant_acts) > 0
	[ops, title] := grant_ops(sprintf("%s/Statement", [prefix]), template_index(i, st), st, acts, grant_acts)
} else := {}

grant_actions := {"kms:creategrant", "kms:listgrants", "kms:revokegrant"}

grant_condition := {"Bool": {"kms:GrantIsForAWSResource": "true"}}

grant_ops(at, i, st, acts, grant_acts) := [[grant_condition_op(sprintf("%s/%d", [at, i]), st)], "add the condition Bool kms:GrantIsForAWSResource = true"] if {
	count(grant_acts) == count(acts)
} else := [
	[
		{"op": "replace", "path": sprintf("%s/%d/Action", [at, i]), "value": [a | some a in acts; not a in grant_acts]},
		{"op": "add", "path": sprintf("%s/-", [at]), "value": object.union(object.remove(st, ["Sid", "Action", "Condition", "__cfn"]), {"Sid": "Allow attachment of persistent resources", "Action": grant_acts, "Condition": with_grant_condition(st)})},
	],
	"move the grant actions to a statement of their own with the condition Bool kms:GrantIsForAWSResource = true",
]

# The statement's own conditions (they may be what scopes its principal) with the grant
# condition added.
with_grant_condition(st) := object.union(st.Condition, {"Bool": object.union(object.get(st.Condition, "Bool", {}), grant_condition.Bool)}) if {
	is_object(st.Condition)
	is_object(object.get(st.Condition, "Bool", {}))
} else := grant_condition

grant_condition_op(at, st) := {"op": "add", "path": sprintf("%s/Condition/Bool/kms:GrantIsForAWSResource", [at]), "value": "true"} if {
	is_object(st.Condition.Bool)
} else := {"op": "add", "path": sprintf("%s/Condition/Bool", [at]), "value": {"kms:GrantIsForAWSResource": "true"}} if {
	is_object(st.Condition)
} else := {"op": "add", "path": sprintf("%s/Condition", [at]), "value": grant_condition}

root_statement(account) := {
	"Sid": "Enable IAM User Permissions",
	"Effect": "Allow",
	"Principal": {"AWS": account_root(account)},
	"Action": "kms:*",
	"Resource": "*",
}

# The account to delegate to, and the fix's title: the owner when known, else the only
# account the policy names (said so), else a placeholder that KMS rejects until it is
# filled in.
delegation_account(v) := [cfn_owner, "add the statement that lets IAM policies of the stack's account (AWS::AccountId) use and manage the key"] if {
	v.doc.source == "cloudformation"
} else := [v.doc.owner, sprintf("add the statement that lets IAM policies of account %s use and manage the key", [v.doc.owner])] if {
	is_literal_account(v.doc.owner)
} else := [min(accounts), sprintf("add the statement that lets IAM policies of account %s, the only account this policy names, use and manage the key; check that this account owns the key", [min(accounts)])] if {
	not is_literal_account(v.doc.owner)
	accounts := view_named_accounts(v)
	count(accounts) == 1
	# The head names that one account.
} else := ["ACCOUNT_ID", "add the statement that lets IAM policies of the owner account use and manage the key; replace ACCOUNT_ID with the key's account id"]

# A template's key belongs to the stack's account: its fixes name AWS::AccountId.
cfn_owner := "${AWS::AccountId}"

# The account's root principal and id as the input writes them, and its name in titles.
account_root(account) := {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"} if {
	account == cfn_owner
} else := sprintf("arn:aws:iam::%s:root", [account])

account_id_value(account) := {"Ref": "AWS::AccountId"} if {
	account == cfn_owner
} else := account

account_label(account) := "the stack's account" if {
	account == cfn_owner
} else := sprintf("account %s", [account])

# Literal accounts a policy names (principals and scoping conditions of
# effective Allow statements): used when the owner is unknown.
view_named_accounts(v) := {a |
	some s in v.allows
	some e in s.entries
	e.pacct != null
	a := e.pacct
	is_literal_account(a)
} | {a |
	some s in v.allows
	some c in s.scoping
	some a in scope_accounts(c)
	is_literal_account(a)
}

# ------------------------------------ services, separation of duties, scoped use

# Services that call KMS on a customer's behalf and for which AWS documents
# confused-deputy protection (aws:SourceAccount, aws:SourceArn) in key policies.
deputy_services := {
	"cloudtrail.amazonaws.com", "cloudwatch.amazonaws.com", "config.amazonaws.com",
	"delivery.logs.amazonaws.com", "events.amazonaws.com", "guardduty.amazonaws.com",
	"logs.amazonaws.com", "s3.amazonaws.com", "securityhub.amazonaws.com", "ses.amazonaws.com",
	"sns.amazonaws.com",
}

deputy_service(n) if deputy_services[n]

# CloudWatch Logs is named by Region (logs.us-east-1.amazonaws.com).
deputy_service(n) if {
	startswith(n, "logs.")
	endswith(n, ".amazonaws.com")
}

# The service principals of an Allow fact that AWS documents confused-deputy protection for.
deputy_principals(s) := {p | some p in s.services; deputy_service(lower(p))}

# Actions through which a service uses the key for someone (DescribeKey alone does not):
# the usual names by set lookup, other globs matched (action_matches).
key_use_actions := ["kms:encrypt", "kms:decrypt", "kms:generatedatakey", "kms:reencryptfrom", "kms:creategrant"]

key_use_patterns := {
	"*", "kms:*", "kms:encrypt", "kms:encrypt*", "kms:decrypt", "kms:decrypt*",
	"kms:generatedatakey", "kms:generatedatakey*", "kms:reencryptfrom", "kms:reencrypt*",
	"kms:creategrant", "kms:create*",
}

uses_key(st) := true if {
	count(actions(st) & key_use_patterns) > 0
} else := true if {
	globs_match(actions(st), key_use_actions)
} else := true if {
	not_action_allows(st, key_use_actions)
} else := false

# Iteration stays in helpers: regorus's bytecode VM does not fall through to `else` after
# a body that iterates and fails.
globs_match(acts, targets) if {
	some a in acts
	contains(a, "*")
	some t in targets
	action_matches(a, t)
}

not_action_allows(st, targets) if {
	present(object.get(st, "NotAction", null))
	some t in targets
	allows_action(st, t)
}

# A condition that ties a service's requests to the caller's own resources: the account
# and ARN keys of the scoping facts, or kms:ViaService, or the encryption context naming
# the resource (kms:EncryptionContext:aws:logs:arn, ...), with a positive operator.
source_scoped(st) if {
	some c in conditions(st)
	positive_operators[c.op]
	not c.ifexists
	count(c.values) > 0
	source_key(c.key)
}

source_key(k) if k == "kms:viaservice"

source_key(k) if {
	startswith(k, "kms:encryptioncontext:aws:")
	endswith(k, ":arn")
}

# The fix for a service principal without confused-deputy protection in the statement of
# Allow fact s: `StringEquals` aws:SourceAccount = the owner account, when the statement
# names services only (the condition would shut out direct callers).
source_account_fix(v, s) := {"fix": [string_equals_op(statement_path(prefix, s.index, st), st, "aws:SourceAccount", account_id_value(account))], "fix_title": sprintf("accept the service's requests only for resources in %s (aws:SourceAccount)%s", [account_label(account), placeholder_note(account)])} if {
	count(s.services) == count(s.entries)
	st := s.statement
	prefix := fix_prefix(v)
	prefix != null
	plain_statement(st)
	[account, _] := delegation_account(v)
} else := {}

placeholder_note(account) := "; replace ACCOUNT_ID with the key's account id" if account == "ACCOUNT_ID"
else := ""

# The Allow facts of a view that name roles or users and administer the key or decrypt
# with it, each worked out once: [{fact, who, admin, use}].
role_grants(v) := [g |
	some s in v.allows
	count(s.roles) > 0
	acts := actions(s.statement)
	g := {"fact": s, "who": s.roles, "admin": administers(acts, s.statement), "use": decrypts(acts, s.statement)}
	true in {g.admin, g.use}
]

# The principals the grants give `kind` ("admin" or "use") to.
granted_to(grants, kind) := {p | some g in grants; g[kind] == true; some p in g.who}

# Whether the statement (its lower-cased actions `acts`) lets its principals change who
# controls the key or destroy it (PutKeyPolicy, ScheduleKeyDeletion, DisableKey): literal
# names and the usual globs by set lookup, other globs matched (action_matches).
administers(acts, st) := true if {
	count(acts & administrative_patterns) > 0
} else := true if {
	globs_match(acts, administrative_actions)
} else := true if {
	not_action_allows(st, administrative_actions)
} else := false

administrative_actions := ["kms:putkeypolicy", "kms:schedulekeydeletion", "kms:disablekey"]

administrative_patterns := {"*", "kms:*", "kms:putkeypolicy", "kms:put*", "kms:schedulekeydeletion", "kms:schedule*", "kms:disablekey", "kms:disable*"}

# Administration and use both come from one statement of every KMS action: the
# admin-wildcard-action finding already covers it.
only_all_actions(admin, use) if {
	count(admin) == 1
	count(use) == 1
	admin[0].index == use[0].index
	grants_all_actions(admin[0].statement)
}

statement_labels(facts) := concat(", ", [statement_label(s.index, s.statement) | some s in facts])

# The fix for a principal that administers the key and may decrypt with it: the decrypt
# actions leave the one statement that gives them (the statement goes when nothing else
# is left); the principal must be that statement's only one.
separation_fix(v, p, use) := {"fix": [op], "fix_title": title} if {
	prefix := fix_prefix(v)
	prefix != null
	count(use) == 1
	u := use[0]
	st := u.statement
	plain_statement(st)
	count(u.entries) == 1
	present(object.get(st, "Action", null))
	keep := [a | some a in as_list(st.Action); not decrypting_action(a)]
	[op, title] := separation_op(statement_path(prefix, u.index, st), keep, p)
} else := {}

# Decrypt, or ReEncryptFrom (which decrypts to re-encrypt under a key the caller chooses):
# the usual names by set lookup first, as in administers.
decrypts(acts, st) := true if {
	count(acts & decrypt_patterns) > 0
} else := true if {
	globs_match(acts, decrypt_actions)
} else := true if {
	not_action_allows(st, decrypt_actions)
} else := false

decrypt_actions := ["kms:decrypt", "kms:reencryptfrom"]

decrypt_patterns := {"*", "kms:*", "kms:decrypt", "kms:decrypt*", "kms:reencryptfrom", "kms:reencrypt*"}

decrypting_action(a) if {
	is_string(a)
	some d in decrypt_actions
	action_matches(lower(a), d)
}

# A lower-cased action pattern matching an action: a glob with one trailing `*`
# (`kms:put*`) by its prefix, any other by glob.match (which costs far more per call).
action_matches(a, t) if {
	prefix_glob(a)
	startswith(t, trim_suffix(a, "*"))
}

action_matches(a, t) if {
	not prefix_glob(a)
	glob.match(a, [], t)
}

prefix_glob(a) if {
	endswith(a, "*")
	not contains(trim_suffix(a, "*"), "*")
	not contains(a, "?")
	not contains(a, "[")
}

separation_op(at, keep, p) := [{"op": "replace", "path": sprintf("%s/Action", [at]), "value": keep}, sprintf("take the decrypt actions away from %s, which administers the key", [p])] if {
	count(keep) > 0
} else := [{"op": "remove", "path": at}, sprintf("remove the statement that lets %s, which administers the key, decrypt with it", [p])]

# Use limited the way AWS's guidance does: through a service (kms:ViaService) or to
# callers of an account (kms:CallerAccount), with a positive operator.
use_scoped(st) if {
	some c in conditions(st)
	c.key in {"kms:viaservice", "kms:calleraccount"}
	positive_operators[c.op]
	not c.ifexists
	count(c.values) > 0
}

# The fix for decryption not scoped to a service in the statement of Allow fact s:
# `StringEquals` kms:ViaService with a placeholder the author fills in (until then the
# statement allows nothing: it fails closed), when the statement names roles and users
# only (an account principal there may be the key's delegation).
via_service_fix(v, s) := {"fix": [string_equals_op(statement_path(prefix, s.index, st), st, "kms:ViaService", "SERVICE.REGION.amazonaws.com")], "fix_title": "allow decryption only through the AWS service that uses the key (kms:ViaService); replace SERVICE.REGION with it, such as s3.us-east-1"} if {
	count(s.roles) == count(s.entries)
	st := s.statement
	prefix := fix_prefix(v)
	prefix != null
	plain_statement(st)
} else := {}
