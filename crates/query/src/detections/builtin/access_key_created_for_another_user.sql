-- id: access-key-created-for-another-user
-- title: Access key created for another user
-- severity: medium
-- grain: event
-- description: A principal created a long-term access key for an IAM user other than itself (CreateAccessKey whose requestParameters.userName names someone else).
-- rationale: A key minted for someone else is a credential its owner may not know about: a classic persistence step (a backdoor key on an existing user), and it breaks attribution of whatever the key does.
-- references: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html, https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-backdoor-user/
-- false_positives: Administrators or provisioning pipelines issuing keys for service users on purpose.
SELECT
  a.principal,
  a.actor,
  e.recipient_account_id AS account_id,
  e.event_time,
  e.event_id,
  to_json(named_struct(
    'for_user', json_get_str(e.request_parameters, 'userName'),
    'new_access_key_id', json_get_str(e.response_elements, 'accessKey', 'accessKeyId'),
    'source_ip', e.source_ip_address,
    'user_agent', e.user_agent
  )) AS evidence
FROM events e
-- Joined on the record's place, which every row has (records without an eventID too).
JOIN attribution a ON a.source_file = e.source_file AND a.record_index = e.record_index
WHERE e.event_name = 'CreateAccessKey' AND a.event_name = 'CreateAccessKey' AND e.error_code IS NULL
  AND json_get_str(e.request_parameters, 'userName') IS NOT NULL
  AND (e.user_identity_type <> 'IAMUser'
       OR e.user_identity_user_name IS NULL
       OR json_get_str(e.request_parameters, 'userName') <> e.user_identity_user_name)
