//! The report's queries, each named so that every number the report shows can be traced
//! to the query that gives it (and rerun with `trailscope sql`).

use serde::Serialize;

/// One query the report ran, as an analyst can rerun it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QueryText {
    /// The id the report's numbers refer to.
    pub id: String,
    /// What it answers.
    pub title: String,
    /// The SQL, over the dataset's tables and views (the `findings` view with the report's
    /// detections).
    pub sql: String,
    /// How long it took here (not part of what the report says: left out of its data).
    #[serde(skip)]
    pub elapsed: std::time::Duration,
}

/// The root user's uses, CIS-filtered (`signed_events.root_use`), per account.
pub const ROOT_BY_ACCOUNT: &str = "\
SELECT coalesce(root_account_id, '(none)') AS account, count(*) AS events, \
count(*) FILTER (WHERE event_name = 'ConsoleLogin' AND json_get_str(response_elements, 'ConsoleLogin') = 'Success') AS signins, \
count(*) FILTER (WHERE event_name = 'ConsoleLogin' AND coalesce(json_get_str(response_elements, 'ConsoleLogin'), '') <> 'Success') AS failed_signins, \
count(*) FILTER (WHERE event_name = 'ConsoleLogin' AND json_get_str(response_elements, 'ConsoleLogin') = 'Success' AND json_get_str(additional_event_data, 'MFAUsed') = 'Yes') AS signins_with_mfa, \
count(*) FILTER (WHERE event_name <> 'ConsoleLogin' AND error_code IS NULL AND error_message IS NULL) AS calls, \
count(*) FILTER (WHERE event_name <> 'ConsoleLogin' AND (error_code IS NOT NULL OR error_message IS NOT NULL)) AS failed_calls, \
array_to_string(array_sort(array_agg(DISTINCT user_identity_access_key_id) FILTER (WHERE user_identity_access_key_id LIKE 'AKIA%')), ' ') AS access_keys, \
count(*) FILTER (WHERE event_name = 'CreateAccessKey' AND error_code IS NULL AND json_get_str(request_parameters, 'userName') IS NULL) AS access_keys_created, \
max(event_time) FILTER (WHERE error_code IS NULL AND error_message IS NULL AND coalesce(json_get_str(response_elements, 'ConsoleLogin'), 'Success') = 'Success') AS last_use, \
max(event_time) AS last_attempt \
FROM signed_events WHERE root_use GROUP BY 1 ORDER BY 1";

/// The first root uses, in time order (at most [`super::ROOT_EVENT_CAP`]: their number in
/// all is the sum of `root-by-account`'s events).
pub const ROOT_EVENTS: &str = "\
SELECT coalesce(root_account_id, '(none)') AS account, event_time, event_name, event_source, \
CASE WHEN event_name = 'ConsoleLogin' THEN coalesce(json_get_str(response_elements, 'ConsoleLogin'), 'Failure') \
WHEN error_code IS NULL AND error_message IS NULL THEN 'Success' ELSE coalesce(error_code, 'Failure') END AS outcome, \
CASE WHEN event_name = 'ConsoleLogin' THEN json_get_str(additional_event_data, 'MFAUsed') \
WHEN session_mfa_authenticated THEN 'Yes' WHEN NOT session_mfa_authenticated THEN 'No' END AS mfa, \
source_ip_address, user_agent_family(user_agent) AS client, user_identity_access_key_id AS access_key_id, event_id \
FROM signed_events WHERE root_use ORDER BY event_time, event_id LIMIT {cap}";

/// The size and spread of the data.
pub const SCOPE_TOTALS: &str = "\
SELECT count(*) AS events, min(event_time) AS first_event, max(event_time) AS last_event, \
count(DISTINCT recipient_account_id) AS accounts, count(DISTINCT aws_region) AS regions, \
count(DISTINCT coalesce(user_identity_arn, user_identity_principal_id, user_identity_invoked_by)) AS identities \
FROM events";

/// Per account and day, the events (for the days with none).
pub const ACCOUNT_DAYS: &str = "\
SELECT coalesce(recipient_account_id, '(none)') AS account, event_date AS day, count(*) AS events, \
count(DISTINCT aws_region) AS regions \
FROM events GROUP BY 1, 2 ORDER BY 1, 2";

/// Events per region.
pub const REGIONS: &str = "\
SELECT coalesce(aws_region, '(none)') AS region, count(*) AS events, \
count(DISTINCT recipient_account_id) AS accounts \
FROM events GROUP BY 1 ORDER BY events DESC, region";

/// Events and errors per day and identity type.
pub const ACTIVITY_BY_DAY: &str = "\
SELECT event_date AS day, coalesce(user_identity_type, '(none)') AS identity_type, \
count(*) AS events, count(error_code) AS errors \
FROM events GROUP BY 1, 2 ORDER BY 1, 2";

/// The most frequent calls.
pub const TOP_EVENTS: &str = "\
SELECT event_source, event_name, count(*) AS events, count(error_code) AS errors, \
count(DISTINCT recipient_account_id) AS accounts \
FROM events GROUP BY 1, 2 ORDER BY events DESC, event_source, event_name LIMIT 25";

/// The most frequent errors.
pub const TOP_ERRORS: &str = "\
SELECT error_code, count(*) AS events, count(DISTINCT event_name) AS event_names, \
min(event_time) AS first_seen, max(event_time) AS last_seen \
FROM events WHERE error_code IS NOT NULL GROUP BY 1 ORDER BY events DESC, error_code LIMIT 15";

/// What the busiest actors did, per principal, account and call, in one pass over the
/// attribution view: the rows of the 25 busiest actors, and of the 8 busiest people
/// (actors other than AWS services), ranked by their events.
pub const ACTOR_CALLS: &str = "\
WITH calls AS (\
 SELECT actor, actor_type, principal, account_id, event_name, count(*) AS events, \
 count(error_code) AS errors, min(event_time) AS first_seen, max(event_time) AS last_seen \
 FROM attribution GROUP BY 1, 2, 3, 4, 5), \
totals AS (\
 SELECT *, coalesce(actor_type, '') NOT IN ('AWSService', 'none', '') AS person, \
 sum(events) OVER (PARTITION BY actor, actor_type) AS actor_events FROM calls), \
ranks AS (\
 SELECT *, dense_rank() OVER (ORDER BY actor_events DESC, actor, actor_type) AS actor_rank, \
 dense_rank() OVER (PARTITION BY person ORDER BY actor_events DESC, actor, actor_type) AS person_rank \
 FROM totals) \
SELECT actor, actor_type, principal, account_id, event_name, events, errors, first_seen, last_seen, \
actor_events, actor_rank, person, person_rank \
FROM ranks WHERE actor_rank <= 25 OR (person AND person_rank <= 8) \
ORDER BY actor_rank, principal, account_id, event_name";

/// The findings, most severe first.
pub const FINDINGS: &str = "\
SELECT severity, detection_id, title, account_id, principal, actor, first_seen, last_seen, \
event_count, evidence, event_ids, finding_id \
FROM findings ORDER BY severity_rank DESC, first_seen, finding_id";

/// `sql` with every `{key}` of `values` filled in.
pub fn fill(sql: &str, values: &[(&str, String)]) -> String {
    values.iter().fold(sql.to_string(), |sql, (key, value)| {
        sql.replace(&format!("{{{key}}}"), value)
    })
}

/// The session chains of chosen actors.
pub const CHAINS: &str = "\
SELECT actor, principal, chain, event_count FROM sessions \
WHERE actor IN ({actors}) AND event_count > 0 ORDER BY actor, event_count DESC, principal";

/// The first evidence events of the shared-identity findings (at most
/// [`super::SHARED_EVENT_CAP`] each), in time order.
pub const SHARED_EVENTS: &str = "\
SELECT finding_id, event_time, source_ip_address, client, event_name, event_id FROM (\
SELECT f.finding_id, e.event_time, e.source_ip_address, user_agent_family(e.user_agent) AS client, \
e.event_name, e.event_id, \
row_number() OVER (PARTITION BY f.finding_id ORDER BY e.event_time, e.event_id) AS n \
FROM (SELECT finding_id, unnest(event_ids) AS event_id FROM findings WHERE finding_id IN ({findings})) f \
JOIN events e ON e.event_id = f.event_id) \
WHERE n <= {cap} ORDER BY finding_id, event_time, event_id";
