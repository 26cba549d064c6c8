# English: the reference language. Every message here must exist in ru.ftl and pl.ftl
# (a test checks); a message missing there falls back to this one at run time.

## Pages
page-title-integration = Google Contacts
page-title-filter = Google Contacts sync
section-accounts = Google accounts
section-bindings = Synced filters
section-sync = Google Contacts
section-status = Google Contacts sync
section-options = Options
section-health = Contacts needing attention
google-unusable = Google cannot be used: { $reason }

## Accounts
col-account = Account
col-state = State
account-connected = connected
account-reconnect-needed = reconnect needed
reconnect-warning = Google refused the sign-in for { $account }. Reconnect it; its syncs are paused until then.
disconnect-label = Disconnect { $account }
disconnect-confirm = Disconnect this Google account? Its syncs stop; no contact is deleted.
connect-google = Connect a Google account
connect-another = Connect another Google account

## Synced filters
col-filter = Filter
col-group = Group
col-direction = Direction
col-last-sync = Last sync
col-sync = Sync
filter-fallback-name = filter { $id }
last-sync-never = never
sync-on = on
sync-off = off

## Activation and the enable form
activate-intro = Keep this filter's contacts in a Google Contacts group, both ways.
activate-button = Sync this filter with Google Contacts
connect-intro = Connect the Google account whose contacts should hold this filter's contacts.
input-account = Google account
view-only-note = You can only view contacts, so this filter syncs from the CRM to Google only.
enable-submit = Enable sync
input-group-mode = Google group
group-filter-name-choice = A group named after the filter
group-existing-choice = An existing group
group-my-contacts = My Contacts
input-group-name = Existing group's name
input-group-name-help = Only for "An existing group".
input-direction = Direction
direction-two-way-choice = Both ways
direction-crm-to-google = CRM → Google
direction-google-to-crm = Google → CRM
input-policy = When a contact changed on both sides
policy-latest-choice = The latest change wins
policy-crm-choice = The CRM wins
policy-google-choice = Google wins
input-delete-mode = When a contact is deleted in the CRM
delete-choice = Delete it in Google
remove-choice = Only remove it from the group
delete-help = A contact deleted in Google is never deleted in the CRM.
input-interval = Check Google every (minutes)
input-custom-fields = Map more fields
input-custom-fields-help = Keys of custom CRM fields to sync, comma-separated; they appear in Google as custom fields.

## The enabled panel
fact-account = Google account
fact-group = Group
fact-direction = Direction
fact-conflicts = Conflicts
fact-deleted = Deleted in the CRM
fact-interval = Checks Google every
fact-last-sync = Last sync
fact-last-run = Last run
fact-failing = Contacts failing
interval-minutes = { $count } min
not-yet = not yet
reconnect-paused = Google refused the sign-in for { $account }. Reconnect it on the integration page; this sync is paused.
last-run-stopped = The last run stopped: { $error }
syncing = Syncing
removals-held = This run would remove { $removals } of { $contacts ->
    [one] { $contacts } contact
   *[other] { $contacts } contacts
} from Google at once. Nothing was removed: confirm if this is intended.
confirm-removals = Confirm the removals
confirm-removals-question = Remove these contacts from Google?
sync-now = Sync now
turn-off = Turn off sync
turn-off-confirm = Turn off sync? No contact is deleted on either side.
save-options = Save options
col-contact = Contact
col-reason = Reason
health-excluded = excluded
health-failing = failing
reason-left-in-google = Deleted in Google or taken out of the group there. It stays in the CRM and is no longer synced with this group.
reason-limit = Google allows { $limit } contacts per account and this account is full. Remove contacts in Google or narrow the filter.
reason-waiting = Waiting for Google to show a contact created earlier.
group-named-after = named after the filter
group-quoted = "{ $name }"
direction-two-way = both ways
policy-latest = the latest change wins
policy-crm = the CRM wins
policy-google = Google wins
deleted-in-google = deleted in Google
removed-from-group = removed from the group
run-counts = { $createdGoogle } created and { $updatedGoogle } updated in Google, { $createdCrm } created and { $updatedCrm } updated in the CRM, { $deletedGoogle } deleted in Google, { $removed } removed from the group, { $unlinked } unlinked, { $conflicts } conflicts, { $errors } errors
contacts-count = { $count ->
    [one] { $count } contact
   *[other] { $count } contacts
}

## Action outcomes
outcome-disabled = Sync turned off. No contact was deleted on either side.
outcome-sync-started = Sync started.
outcome-removals-confirmed = Confirmed; the removals are being applied.
unknown-action = Unknown action "{ $name }".
not-a-filter-id = "{ $value }" is not a filter id.
needs-filter = This action needs a filter.
continue-on-google = Continue on Google's page to allow access to your contacts.
connected = Connected the Google account { $account }.
account-not-yours = That Google account is not connected to your CRM user.
disconnected = Disconnected { $account }. Its syncs are off; no contact was deleted.
choose-options = Choose the Google account and options, then enable sync.
choose-account = Choose one of your connected Google accounts (or connect one first).
enabled = Sync enabled; the first run has started.
enabled-view-only = Sync enabled; the first run has started. You can only view contacts, so it syncs from the CRM to Google only.
options-saved = Options saved; a sync with the new options has started.
sync-not-enabled = Sync is not enabled on this filter.

## Refusals
refusal-not-saved = This filter is not saved. Save it first, then turn on Google Contacts sync.
refusal-not-author = Only the filter's author can sync it with Google Contacts.
refusal-plan = Your plan does not include Google Contacts sync. Ask your CRM administrator to upgrade the plan.
refusal-no-permission = You have no permission to use contacts, so there is nothing to sync.
refusal-no-filter = This filter no longer exists.
refusal-no-user = Your CRM user could not be found.
refusal-host = The CRM could not be asked: { $reason }

## Option errors
options-not-a-choice = "{ $value }" is not a valid { $what }; choose one of: { $choices }.
what-direction = direction
what-policy = conflict policy
what-delete-mode = deletion option
what-group = group choice
options-interval = The sync interval must be a whole number of minutes from 1 to 1440, not "{ $value }".
options-group-missing = Enter the name of the Google group to use.
options-group-too-long = The group name is too long (at most 200 characters).
options-custom-field = "{ $value }" is not a CRM field key: use letters, digits, '_', '-' or '.', at most 64 characters.

## Google's answers
google-not-connected = The Google account { $email } is not connected. Connect it in the integration settings.
google-reconnect = Google refused the sign-in for { $email } (the access was revoked or expired). Reconnect the account in the integration settings.
google-scope-missing = Google did not grant access to the contacts of { $email }. Connect the account again and leave "See, edit, download and permanently delete your contacts" ticked.
google-scope-insufficient = The connection to { $email } lacks the contacts permission. Reconnect the account in the integration settings and allow access to contacts.
google-consent-denied = Google did not connect the account ({ $error }). Try connecting again and allow access.
google-state-unknown = This Google sign-in link is unknown or was already used. Start connecting the account again.
google-state-expired = The Google sign-in took too long and expired. Start connecting the account again.
google-state-wrong-user = This Google sign-in was started by another CRM user. Start connecting the account yourself.
google-token-refused = Google's sign-in service refused the request ({ $code }). Check google.client_id and google.client_secret in the plugin configuration, then connect the account again.
google-unavailable = Google could not be reached or kept failing after { $attempts } attempts ({ $detail }). The sync will try again later.

## Times
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
date-time = { $day } { $month } { $year }, { $time }
ago-now = just now
ago-minutes = { $count ->
    [one] { $count } minute ago
   *[other] { $count } minutes ago
}
ago-hours = { $count ->
    [one] { $count } hour ago
   *[other] { $count } hours ago
}
ago-with-time = { $ago } ({ $time })

## Notices
notice-reconnect-title = Reconnect { $account } to Google Contacts
notice-reconnect-body = Google refused the sign-in for { $account }, so its syncs are paused. Reconnect it on the Google Contacts integration page.
notice-held-title = Removals from Google are waiting for you
notice-held-body = The sync of "{ $filter }" would remove { $removals } of { $contacts ->
    [one] { $contacts } contact
   *[other] { $contacts } contacts
} from Google at once. Nothing was removed: open the filter's sync panel and confirm if this is intended.
notice-limit-title = Google's contact limit is reached
notice-limit-body = The sync of "{ $filter }" stopped: { $error }
notice-failing-title = { $count ->
    [one] { $count } contact has been failing for more than a day
   *[other] { $count } contacts have been failing for more than a day
}
notice-failing-body = Some contacts of "{ $filter }" have not synced for more than a day. The filter's sync panel lists them with the reason.
notice-stale-title = "{ $filter }" has not synced for more than a day
notice-stale-body = The last successful sync was { $when }. Open the filter's sync panel to see why.
notice-stale-never = The sync was enabled more than a day ago and has not succeeded yet. Open the filter's sync panel to see why.

## Preview
section-preview = Preview
preview-button = Preview the next run
input-preview-first = Preview first
input-preview-first-help = See what the first sync would do before anything is written; enable it from the preview.
preview-started = The preview is being made from a full listing of Google; this page shows it when it is ready. Nothing is written on either side.
preview-running = Listing Google for the preview: { $listed } contacts so far. Nothing is written on either side.
preview-failed = The preview failed: { $error }
preview-intro = What a run would do now. Nothing has been written on either side; if either side changes before the run, the run follows what is there then.
fact-preview-totals = Totals
fact-preview-listed = Google contacts listed
fact-preview-in-filter = Contacts in the filter
fact-preview-held = Removals held for your confirmation
col-what = What happens
col-field = Field
col-old = Now
col-new = After the run
preview-page = Page { $page } of { $pages }
preview-prev = Previous page
preview-next = Next page
enable-previewed = Enable as previewed
run-previewed = Sync now as previewed
discard-preview = Discard the preview
preview-discarded = The preview was discarded.
no-preview = There is no finished preview of this filter; make one first.
enabled-as-previewed = Sync enabled as previewed. Its first run follows the contacts as they are when it runs; this page says whether it did what the preview showed.
started-as-previewed = Sync started as previewed; this page says whether the run did what the preview showed.
preview-kept = The run after the preview did what the preview showed.
preview-differed = The run after the preview did something else, because contacts changed on either side in between. Preview: { $preview }. Run: { $run }.
what-create = Created in Google
what-match = Matched to an existing Google contact by { $by }
match-by-crm-id = CRM id
match-by-email = e-mail
match-by-phone = phone
match-by-rejoined = being put back into the group
what-update = Updated
what-add-to-group = Added to the group
what-import = Imported into the CRM
what-remove = Removed from the group
what-delete = Deleted in Google
what-delete-copy = Duplicate deleted in Google
what-unlink = Unlinked; the CRM keeps it
what-excluded = Left in Google (deleted or taken out of the group there); the CRM keeps it
what-refused = Not synced: { $reason }
side-google = in Google
side-crm = in the CRM
change-field = { $field } { $side }
change-conflict = { $field } { $side } (changed on both sides; settled by the policy)

## History
section-history = Recent changes
col-when = When
col-side = Side
col-before = Before
col-after = After
col-why = Why
col-run = Run
input-history-contact = Contact id
input-history-side = Side
input-history-run = Run
history-any-side = Both sides
history-side-google = Google
history-side-crm = CRM
history-filter-submit = Show
history-not-a-number = Contact and run are numbers; leave them empty to show all.
history-created = created
history-matched = matched to an existing contact
history-updated = updated
history-added-to-group = added to the group
history-imported = imported
history-removed-from-group = removed from the group
history-deleted = deleted
why-edited-in-crm = edited in the CRM
why-edited-in-google = edited in Google
why-conflict = changed on both sides; settled by the policy
why-new-in-filter = in the filter
why-found-in-google = found in Google
why-added-in-google = added to the group in Google
why-left-filter = left the filter, or the user may no longer see it
why-deleted-in-crm = deleted in the CRM
why-duplicate = a duplicate of a contact the plugin created
col-change = Change
undo-run = Undo run { $run }
undo-run-confirm = Put back what this run changed on either side? Fields changed again since are left alone; nothing is deleted.
undo-change-submit = Undo this change
input-undo-change = Change number
undo-started = The undo is under way; this page shows what it did.
undo-running = Undoing…
undo-failed = The undo stopped: { $error }
undo-done = Undo done: { $restored } put back (the next sync carries them to the other side), { $kept } left as they are.
kept-changed-since = changed since, kept
kept-gone = no longer there
kept-import = an import: the CRM contact stays (undo never deletes a CRM contact)
kept-in-filter = the contact is in the filter, so it stays synced
kept-duplicate = a duplicate; not made again
history-export = Export as CSV
section-contact-history = Google Contacts sync: history
contact-history-in-filter = Changes made by the sync of “{ $filter }”
contact-history-none = The sync has changed nothing on this contact yet.
