# METADATA
# title: rewind rollback policy
# description: |
#   Decides whether rewind may roll a deployment back to its previous image
#   version, and whether the rollback pull request is merged automatically
#   ("merge") or waits for a human ("pull_request"). Limits, severities and
#   freeze windows come from data.rewind (policies/data.json), the clock only
#   from input.now, so the same input always gives the same decision.
# related_resources:
#   - ref: https://www.openpolicyagent.org/docs/policy-language
# scope: package
package rewind.rollback

# Configuration: data.rewind.<key>, else the shipped default, so a data file
# that omits a key still gives a safe decision instead of an undefined one.
# Each key is read by name: the package itself lives under data.rewind, and
# reading all of data.rewind would make every rule depend on itself.
cfg := {
	"severities": setting_severities,
	"autoMergeSeverities": setting_auto_merge_severities,
	"autoMergeMaxAgeHours": setting_auto_merge_max_age_hours,
	"maxRollbacksPerHour": setting_max_rollbacks_per_hour,
	"maxConcurrentTargets": setting_max_concurrent_targets,
	"freezeWindows": setting_freeze_windows,
	"disabledEnvironments": setting_disabled_environments,
	"versionLabels": setting_version_labels,
}

default setting_severities := ["critical", "warning"]

setting_severities := data.rewind.severities

default setting_auto_merge_severities := ["critical"]

setting_auto_merge_severities := data.rewind.autoMergeSeverities

default setting_auto_merge_max_age_hours := 24

setting_auto_merge_max_age_hours := data.rewind.autoMergeMaxAgeHours

default setting_max_rollbacks_per_hour := 1

setting_max_rollbacks_per_hour := data.rewind.maxRollbacksPerHour

default setting_max_concurrent_targets := 3

setting_max_concurrent_targets := data.rewind.maxConcurrentTargets

default setting_freeze_windows := []

setting_freeze_windows := data.rewind.freezeWindows

default setting_disabled_environments := []

setting_disabled_environments := data.rewind.disabledEnvironments

default setting_version_labels := ["version", "image_tag"]

setting_version_labels := data.rewind.versionLabels

# METADATA
# title: the decision rewind acts on
# description: |
#   {"allow", "mode", "reasons", "labels"}. Reasons hold every deny, mode and
#   informational reason that applied, sorted, so a decision reads the same
#   whichever engine (opa, Wasm) produced it.
# entrypoint: true
decision := {
	"allow": allow,
	"mode": mode,
	"reasons": sort(reasons),
	"labels": sort(labels),
}

default allow := false

allow if count(deny) == 0

default mode := "pull_request"

mode := "merge" if {
	allow
	count(review) == 0
}

reasons := (deny | review) | (merge_reasons | info)

labels contains concat("", ["rewind:", mode])

labels contains concat("", ["env:", input.target.environment]) if is_string(input.target.environment)

# ---------------------------------------------------------------- deny

# METADATA
# title: no candidate
# description: the history walk found no earlier version to return to
deny contains "no rollback candidate: no earlier version to roll back to" if {
	object.get(input, ["change", "to"], null) == null
}

# METADATA
# title: no rollback of a rollback
# description: |
#   The current version was put there by rewind; rolling it back again would
#   walk further into the past on a loop of alerts.
deny contains msg if {
	input.change.fromIsRollback == true
	msg := concat("", ["current version ", input.change.from, " is itself a rollback: no rollback of a rollback"])
}

# METADATA
# title: flapping
# description: at most maxRollbacksPerHour rollbacks of one target per hour
deny contains msg if {
	input.history.rollbacksLastHour >= cfg.maxRollbacksPerHour
	msg := concat("", [
		"flapping: ", num(input.history.rollbacksLastHour),
		" rollback(s) of this target in the last hour, limit ", num(cfg.maxRollbacksPerHour), " per hour",
	])
}

# METADATA
# title: severity not handled
deny contains msg if {
	not input.alert.severity in cfg.severities
	msg := concat("", [
		"severity ", input.alert.severity, " is not one rewind acts on (",
		concat(", ", cfg.severities), ")",
	])
}

# METADATA
# title: environment disabled
deny contains msg if {
	input.target.environment in cfg.disabledEnvironments
	msg := concat("", ["rollbacks are disabled in environment ", input.target.environment])
}

# METADATA
# title: alert about another release
# description: |
#   An alert whose version label names a release other than the current one
#   cannot be blamed on the current release. Checked on the alert being
#   remediated and on every firing alert of the incident: a deny only asks a
#   human to look, which is the safe side for a rollback tool.
deny contains msg if {
	some a in array.concat([input.alert], input.alerts)
	some name in cfg.versionLabels
	v := object.get(object.get(a, "labels", {}), name, "")
	is_string(v)
	v != ""
	not same_version(v, input.change.from)
	msg := concat("", [
		"alert ", str(object.get(a, "name", "")), " is about version ", v, " (label ", name, "), not the current ",
		input.change.from,
	])
}

# METADATA
# title: alert older than the release
# description: an alert that began before the current release was committed cannot be caused by it
deny contains "alert began before the current release was committed: the release cannot be its cause" if {
	time.parse_rfc3339_ns(input.alert.startsAt) < time.parse_rfc3339_ns(input.change.fromCommittedAt)
}

# METADATA
# title: malformed input
# description: |
#   A missing or mistyped field would make the rule that reads it undefined,
#   and an undefined deny is an allow. So every field a rule reads must be
#   there, with its type.
deny contains msg if {
	some field, kind in input_fields
	not has_type(object.get(input, split(field, "."), null), kind)
	msg := concat("", ["invalid input: ", field, " must be of type ", kind])
}

input_fields := {
	"alert.name": "string",
	"alert.severity": "string",
	"alert.labels": "object",
	"alert.startsAt": "string",
	"alerts": "array",
	"target.environment": "string",
	"change.from": "string",
	"change.fromCommittedAt": "string",
	"change.fromAgeSeconds": "number",
	"change.fromIsRollback": "boolean",
	"incident.targetsFiring": "number",
	"history.rollbacksLastHour": "number",
	"history.openPullRequest": "boolean",
	"now": "string",
}

# METADATA
# title: malformed policy data
# description: |
#   data.json is edited by hand; a limit written as "1" would compare as
#   never reached. A setting of the wrong type denies until it is fixed.
deny contains msg if {
	some key, kind in data_fields
	not has_type(cfg[key], kind)
	msg := concat("", ["invalid policy data: rewind.", key, " must be of type ", kind])
}

data_fields := {
	"severities": "array",
	"autoMergeSeverities": "array",
	"autoMergeMaxAgeHours": "number",
	"maxRollbacksPerHour": "number",
	"maxConcurrentTargets": "number",
	"freezeWindows": "array",
	"disabledEnvironments": "array",
	"versionLabels": "array",
}

# METADATA
# title: unreadable timestamps
# description: a timestamp the policy cannot read would silently skip the rules that use it
deny contains msg if {
	some field in ["alert.startsAt", "change.fromCommittedAt", "now"]
	value := object.get(input, split(field, "."), null)
	is_string(value)
	not valid_time(value)
	msg := concat("", ["invalid RFC 3339 timestamp in input.", field])
}

# METADATA
# title: shared failure
# description: many targets failing together point at shared infrastructure, not at one release
deny contains msg if {
	input.incident.targetsFiring > cfg.maxConcurrentTargets
	msg := concat("", [
		num(input.incident.targetsFiring), " targets firing at once, more than ",
		num(cfg.maxConcurrentTargets), ": a shared failure, not a bad release",
	])
}

# ---------------------------------------------------------------- mode

# METADATA
# title: severity needs review
review contains msg if {
	not input.alert.severity in cfg.autoMergeSeverities
	msg := concat("", [
		input.alert.severity, " alert: review required (auto-merge only for ",
		concat(", ", cfg.autoMergeSeverities), ")",
	])
}

# METADATA
# title: release too old to merge unattended
review contains msg if {
	not young
	msg := concat("", ["release is older than ", num(cfg.autoMergeMaxAgeHours), "h: review required"])
}

# METADATA
# title: freeze window
# description: |
#   A window applies from start (inclusive) to end (exclusive), to every
#   environment or only to those it lists.
review contains msg if {
	some w in cfg.freezeWindows
	in_window(w)
	applies_to_target(w)
	msg := concat("", ["freeze window", reason_part(w), " until ", w.end, ": review required"])
}

# METADATA
# title: broken freeze window
# description: a window the policy cannot read might be a freeze; ask for review rather than ignore it
review contains msg if {
	some w in cfg.freezeWindows
	not valid_window(w)
	msg := "freeze window with an invalid start or end in policy data: review required"
}

merge_reasons contains msg if {
	mode == "merge"
	msg := concat("", [input.alert.severity, " alert on a release younger than ", num(cfg.autoMergeMaxAgeHours), "h"])
}

# ---------------------------------------------------------------- info

info contains "a rewind pull request for this target is already open: it is reused" if {
	input.history.openPullRequest == true
}

# ---------------------------------------------------------------- helpers

young if input.change.fromAgeSeconds < cfg.autoMergeMaxAgeHours * 3600

valid_time(s) if time.parse_rfc3339_ns(s)

has_type(v, "string") if is_string(v)

has_type(v, "number") if is_number(v)

has_type(v, "boolean") if is_boolean(v)

has_type(v, "object") if is_object(v)

has_type(v, "array") if is_array(v)

valid_window(w) if {
	valid_time(w.start)
	valid_time(w.end)
}

in_window(w) if {
	now := time.parse_rfc3339_ns(input.now)
	time.parse_rfc3339_ns(w.start) <= now
	now < time.parse_rfc3339_ns(w.end)
}

applies_to_target(w) if count(object.get(w, "environments", [])) == 0

applies_to_target(w) if input.target.environment in object.get(w, "environments", [])

reason_part(w) := concat("", [" ", w.reason]) if {
	is_string(w.reason)
	w.reason != ""
} else := ""

# The tag and digest parts of a formatted version: "v1.2.0",
# "v1.2.0@sha256:…" or "sha256:…".
version_parts(from) := {p | some p in split(from, "@"); p != ""}

# A leading "v" is ignored: apps often report 1.2.0 for the image tag v1.2.0.
same_version(label, from) if {
	some p in version_parts(from)
	trim_prefix(label, "v") == trim_prefix(p, "v")
}

# A digest-only release has no tag to compare a tag-like label with: only a
# digest label can then prove the alert is about another release.
same_version(label, from) if {
	startswith(from, "sha256:")
	not startswith(label, "sha256:")
}

str(x) := x if is_string(x)

else := json.marshal(x)

# Integers print without a fraction; anything else as JSON.
num(x) := format_int(x, 10) if {
	x == floor(x)
} else := json.marshal(x)
