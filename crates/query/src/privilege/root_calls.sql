-- Every API call by the root user (root_use, as signed_events.sql defines it) with the
-- root-only task it is (table root_tasks), or NULL when an IAM identity could have made it.
-- Old records have no eventType: they are API calls unless they are sign-ins.
SELECT e.*, t.task
FROM signed_events e
LEFT JOIN root_tasks t
  ON e.event_source = t.event_source AND e.event_name = t.event_name
 AND (t.condition = 'any'
      OR (t.condition = 'own_credentials'
          AND coalesce(json_get_str(e.request_parameters, 'userName'), 'root') = 'root')
      OR (t.condition = 'mfa_delete'
          AND json_get_str(e.request_parameters, 'VersioningConfiguration', 'MfaDelete') IS NOT NULL))
WHERE e.root_use
  AND coalesce(e.event_type, 'AwsApiCall') = 'AwsApiCall'
  AND e.event_source <> 'signin.amazonaws.com'
