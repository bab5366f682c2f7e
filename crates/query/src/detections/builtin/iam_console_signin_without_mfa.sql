-- id: iam-console-signin-without-mfa
-- title: IAM user console sign-in without MFA
-- severity: medium
-- grain: event
-- description: An IAM user signed in to the console successfully without multi-factor authentication (additionalEventData.MFAUsed = No). One finding per sign-in.
-- rationale: A console password alone is phishable and guessable; CIS AWS Foundations 1.10 and Security Hub IAM.5 require MFA for every IAM user with a console password.
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-5, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
-- false_positives: Sign-ins federated through an identity provider that enforces MFA itself are not IAM users and do not fire.
SELECT
  -- Sign-in events may name the user without its ARN.
  coalesce(nullif(user_identity_arn, ''), concat('arn:aws:iam::', recipient_account_id, ':user/', user_identity_user_name)) AS principal,
  coalesce(nullif(user_identity_arn, ''), concat('arn:aws:iam::', recipient_account_id, ':user/', user_identity_user_name)) AS actor,
  recipient_account_id AS account_id,
  event_time,
  event_id,
  to_json(named_struct('user_name', user_identity_user_name, 'source_ip', source_ip_address, 'user_agent', user_agent)) AS evidence
FROM signed_events
WHERE user_identity_type = 'IAMUser' AND event_name = 'ConsoleLogin'
  AND json_get_str(response_elements, 'ConsoleLogin') = 'Success'
  AND json_get_str(additional_event_data, 'MFAUsed') = 'No'
  -- A console sign-in federated through SAML names the IAM user it maps to, but MFA is
  -- the identity provider's to enforce: additionalEventData.SamlProviderArn says so.
  AND json_get_str(additional_event_data, 'SamlProviderArn') IS NULL
