# METADATA
# title: tests of the rewind rollback policy
# description: |
#   The cases live once, as data, in policies/cases.json (loaded at
#   data.cases by `opa test policies/`); test/policy/cases.test.ts runs the
#   same cases against the compiled Wasm. Each test_<id> below runs the case
#   with that id, so `opa test -v` names every rule and boundary, and
#   test_every_case catches a case that has no test of its own.
package rewind.rollback_test

import data.rewind.rollback

# The decision for one case: its input merged over the base input, its data
# merged over the effective configuration (shipped data plus defaults).
run(c) := out if {
	d := object.union(rollback.cfg, object.get(c, "data", {}))
	inp := object.union(data.cases.baseInput, object.get(c, "input", {}))
	out := rollback.decision with input as inp
		with data.rewind.severities as d.severities
		with data.rewind.autoMergeSeverities as d.autoMergeSeverities
		with data.rewind.autoMergeMaxAgeHours as d.autoMergeMaxAgeHours
		with data.rewind.maxRollbacksPerHour as d.maxRollbacksPerHour
		with data.rewind.maxConcurrentTargets as d.maxConcurrentTargets
		with data.rewind.freezeWindows as d.freezeWindows
		with data.rewind.disabledEnvironments as d.disabledEnvironments
		with data.rewind.versionLabels as d.versionLabels
}

# What differs from the case's expectation: allow, mode and labels when
# given, every expected reason present, and with onlyReasons no other.
problems(c) := field_problems | reason_problems if {
	out := run(c)
	field_problems := {msg |
		some field in ["allow", "mode", "labels"]
		want := object.get(c.expect, field, out[field])
		want != out[field]
		msg := sprintf("%s: got %v, want %v", [field, out[field], want])
	}
	reason_problems := {msg |
		some r in object.get(c.expect, "reasons", [])
		not r in out.reasons
		msg := sprintf("missing reason %q in %v", [r, out.reasons])
	} | {msg |
		object.get(c.expect, "onlyReasons", false) == true
		sort(c.expect.reasons) != out.reasons
		msg := sprintf("reasons: got %v, want exactly %v", [out.reasons, sort(c.expect.reasons)])
	}
}

passes(id) if {
	some c in data.cases.all
	c.id == id
	p := problems(c)
	print(id, p)
	count(p) == 0
}

test_every_case if {
	failing := {c.id | some c in data.cases.all; not count(problems(c)) == 0}
	print("failing cases:", failing)
	count(failing) == 0
}

test_case_ids_unique if count({c.id | some c in data.cases.all}) == count(data.cases.all)

test_reasons_and_labels_sorted if {
	out := run({"id": "sorted", "input": {"change": {"to": null, "fromIsRollback": true}}, "expect": {}})
	out.reasons == sort(out.reasons)
	out.labels == sort(out.labels)
}

test_default_allow_is_false if {
	not rollback.allow with input as {}
}

# critical alert on a release younger than autoMergeMaxAgeHours merges, with that one reason
test_merge_critical_young_release if passes("merge_critical_young_release")

# no candidate (change.to null) denies
test_deny_no_candidate if passes("deny_no_candidate")

# the current version was itself a rollback
test_deny_rollback_of_rollback if passes("deny_rollback_of_rollback")

# one rollback in the last hour is below a limit of 2
test_allow_rollbacks_below_limit if passes("allow_rollbacks_below_limit")

# rollbacksLastHour equal to maxRollbacksPerHour denies (the next would exceed it)
test_deny_flapping_at_limit if passes("deny_flapping_at_limit")

# more rollbacks than the limit
test_deny_flapping_above_limit if passes("deny_flapping_above_limit")

# rollbacksLastDay alone does not deny
test_allow_rollbacks_earlier_today if passes("allow_rollbacks_earlier_today")

# a severity outside data.rewind.severities denies
test_deny_severity_not_handled if passes("deny_severity_not_handled")

# an alert without a severity label (severity "none") denies
test_deny_severity_none if passes("deny_severity_none")

# a warning alert is allowed but needs review
test_pull_request_warning_alert if passes("pull_request_warning_alert")

# autoMergeSeverities decides which severities merge
test_merge_warning_when_configured if passes("merge_warning_when_configured")

# the target's environment is in disabledEnvironments
test_deny_environment_disabled if passes("deny_environment_disabled")

# disabling another environment changes nothing
test_merge_other_environment_disabled if passes("merge_other_environment_disabled")

# the alert's version label names another release
test_deny_version_label_other_release if passes("deny_version_label_other_release")

# a version label equal to the current tag
test_merge_version_label_current_release if passes("merge_version_label_current_release")

# a leading v is ignored: 1.2.0 is v1.2.0
test_merge_version_label_without_v if passes("merge_version_label_without_v")

# image_tag equal to the tag part of tag@digest
test_merge_image_tag_label_tag_and_digest if passes("merge_image_tag_label_tag_and_digest")

# image_tag differing from the tag part of tag@digest
test_deny_image_tag_label_tag_and_digest if passes("deny_image_tag_label_tag_and_digest")

# a tag label cannot be compared with a digest-only release: no deny
test_merge_tag_label_digest_only_release if passes("merge_tag_label_digest_only_release")

# a digest label equal to the digest of the release
test_merge_digest_label_same_digest if passes("merge_digest_label_same_digest")

# a digest label naming another digest
test_deny_digest_label_other_digest if passes("deny_digest_label_other_digest")

# another firing alert of the incident names another release
test_deny_incident_alert_other_release if passes("deny_incident_alert_other_release")

# versionLabels replaces the default label names
test_merge_custom_version_labels if passes("merge_custom_version_labels")

# a configured label that differs denies
test_deny_custom_version_label if passes("deny_custom_version_label")

# the alert began a second before the release was committed
test_deny_alert_before_release if passes("deny_alert_before_release")

# one nanosecond earlier is earlier (9 fractional digits)
test_deny_alert_one_ns_before_release if passes("deny_alert_one_ns_before_release")

# an alert that began exactly at the commit time is not older than the release
test_merge_alert_at_release_time if passes("merge_alert_at_release_time")

# Alertmanager timestamps with 1 to 9 fractional digits
test_merge_alert_fractional_seconds if passes("merge_alert_fractional_seconds")

# offsets compare as instants: 11:00:30+01:00 is after 10:00:00Z
test_merge_alert_with_offset if passes("merge_alert_with_offset")

# 10:59:59+01:00 is before 10:00:00Z
test_deny_alert_with_offset_before_release if passes("deny_alert_with_offset_before_release")

# an unreadable startsAt denies instead of skipping the check
test_deny_unreadable_alert_start if passes("deny_unreadable_alert_start")

# an unreadable now denies
test_deny_unreadable_now if passes("deny_unreadable_now")

# targetsFiring equal to maxConcurrentTargets is allowed
test_merge_targets_firing_at_limit if passes("merge_targets_firing_at_limit")

# one target more than maxConcurrentTargets denies
test_deny_targets_firing_above_limit if passes("deny_targets_firing_above_limit")

# a release exactly autoMergeMaxAgeHours old is not younger: review
test_pull_request_release_at_max_age if passes("pull_request_release_at_max_age")

# one second younger than the limit merges
test_merge_release_just_under_max_age if passes("merge_release_just_under_max_age")

# autoMergeMaxAgeHours from data
test_pull_request_release_age_custom_limit if passes("pull_request_release_age_custom_limit")

# a window starting exactly at now applies (start inclusive)
test_pull_request_freeze_window_starts_now if passes("pull_request_freeze_window_starts_now")

# a window ending exactly at now no longer applies (end exclusive)
test_merge_freeze_window_ends_now if passes("merge_freeze_window_ends_now")

# a window starting a nanosecond after now does not apply
test_merge_freeze_window_in_future if passes("merge_freeze_window_in_future")

# a window listing the target's environment applies
test_pull_request_freeze_window_for_environment if passes("pull_request_freeze_window_for_environment")

# a window for other environments does not apply
test_merge_freeze_window_other_environment if passes("merge_freeze_window_other_environment")

# a window without a reason is still named by its end
test_pull_request_freeze_window_without_reason if passes("pull_request_freeze_window_without_reason")

# a window with an unreadable end asks for review rather than being ignored
test_pull_request_freeze_window_unreadable if passes("pull_request_freeze_window_unreadable")

# an open rewind PR does not deny; it is reused
test_merge_reuses_open_pull_request if passes("merge_reuses_open_pull_request")

# a decision lists every deny and mode reason that applied
test_deny_lists_every_reason if passes("deny_lists_every_reason")

# labels carry the mode and the target's environment
test_labels_name_mode_and_environment if passes("labels_name_mode_and_environment")

# a setting of the wrong type in data.json denies
test_deny_invalid_policy_data if passes("deny_invalid_policy_data")

# a missing or mistyped input field denies rather than skipping the rule that reads it
test_deny_malformed_input if passes("deny_malformed_input")
