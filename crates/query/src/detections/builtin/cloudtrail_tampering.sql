-- id: cloudtrail-tampering
-- title: CloudTrail logging stopped, deleted or narrowed
-- severity: high
-- grain: event
-- description: StopLogging, DeleteTrail, UpdateTrail, or PutEventSelectors that stops recording management events (an event selector with includeManagementEvents false, or advanced selectors none of which selects the Management category). Failed attempts fire too; the evidence says whether the call succeeded.
-- rationale: Turning off the audit trail is how an intruder hides what comes next; CIS AWS Foundations 3.x and Security Hub CloudTrail.1 require a trail recording management events.
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html, https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html#cloudtrail-1, https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-stop/
-- false_positives: Planned trail changes (a new organization trail replacing account trails), UpdateTrail calls that change only the S3 prefix or notifications.
SELECT
  a.principal,
  a.actor,
  e.recipient_account_id AS account_id,
  e.event_time,
  e.event_id,
  to_json(named_struct(
    'event_name', e.event_name,
    'trail', coalesce(json_get_str(e.request_parameters, 'name'), json_get_str(e.request_parameters, 'trailName')),
    'succeeded', e.error_code IS NULL,
    'error_code', e.error_code,
    'request_parameters', e.request_parameters,
    'source_ip', e.source_ip_address
  )) AS evidence
FROM events e
-- Joined on the record's place, which every row has (records without an eventID too).
JOIN attribution a ON a.source_file = e.source_file AND a.record_index = e.record_index
-- The same filter on both sides, so that neither reads more than CloudTrail's own calls.
WHERE a.event_source = 'cloudtrail.amazonaws.com'
  AND a.event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors')
  AND e.event_source = 'cloudtrail.amazonaws.com'
  AND (
    e.event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail')
    OR (e.event_name = 'PutEventSelectors' AND (
          e.request_parameters LIKE '%"includeManagementEvents":false%'
          OR (json_get_json(e.request_parameters, 'advancedEventSelectors') IS NOT NULL
              AND e.request_parameters NOT LIKE '%"Management"%')))
  )
