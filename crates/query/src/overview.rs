//! The first questions anyone asks of a trail, in SQL anyone can rerun with
//! `trailscope sql`: what identities, what root did, who is most active, who is behind
//! role sessions, and what the detections found. The demo prints their answers.

use datafusion::prelude::SessionContext;

use crate::{Answer, Result};

/// One overview question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    /// A stable name, for code that reads an answer.
    pub id: &'static str,
    /// The heading shown above the answer.
    pub title: &'static str,
    /// The query, over the session's tables and views.
    pub sql: &'static str,
}

/// The overview, in the order it is shown.
pub const QUESTIONS: &[Question] = &[
    Question {
        id: "identity-types",
        title: "Events by identity type",
        sql: "SELECT coalesce(user_identity_type, '(none)') AS identity_type, count(*) AS events \
              FROM events GROUP BY 1 ORDER BY events DESC, identity_type",
    },
    Question {
        id: "root-activity",
        title: "Root user activity (CIS: type Root, no invokedBy, not an AwsServiceEvent)",
        sql: "SELECT recipient_account_id AS account, event_name, \
                     count(*) AS events, count(error_code) + count(error_message) AS failed, \
                     min(event_time) AS first_seen, max(event_time) AS last_seen \
              FROM events \
              WHERE user_identity_type = 'Root' AND user_identity_invoked_by IS NULL \
                AND event_type <> 'AwsServiceEvent' \
              GROUP BY 1, 2 ORDER BY first_seen",
    },
    Question {
        id: "active-principals",
        title: "Most active principals",
        sql: "SELECT coalesce(user_identity_arn, user_identity_invoked_by, user_identity_type) AS principal, \
                     count(*) AS events, count(DISTINCT source_ip_address) AS source_ips \
              FROM events GROUP BY 1 ORDER BY events DESC, principal LIMIT 10",
    },
    Question {
        id: "session-actors",
        title: "Who is behind role and federated sessions (attribution, AWS services left out)",
        sql: "SELECT actor, actor_type, method, count(*) AS events, count(DISTINCT principal) AS sessions \
              FROM attribution \
              WHERE principal_type IN ('AssumedRole', 'FederatedUser') AND actor_type <> 'AWSService' \
              GROUP BY 1, 2, 3 ORDER BY events DESC, actor LIMIT 12",
    },
    Question {
        id: "findings",
        title: "Findings (`trailscope findings` for all columns, `trailscope detections` for what each means)",
        sql: "SELECT severity, detection_id, account_id, actor, event_count, first_seen \
              FROM findings ORDER BY severity_rank DESC, first_seen, finding_id",
    },
];

/// Every overview question with its answer, in order.
pub async fn ask(ctx: &SessionContext) -> Result<Vec<(Question, Answer)>> {
    let mut out = Vec::with_capacity(QUESTIONS.len());
    for question in QUESTIONS {
        out.push((
            *question,
            Answer::collect(ctx.sql(question.sql).await?).await?,
        ));
    }
    Ok(out)
}

/// The answer to the question `id` among `answers`.
pub fn answer<'a>(answers: &'a [(Question, Answer)], id: &str) -> Option<&'a Answer> {
    answers.iter().find(|(q, _)| q.id == id).map(|(_, a)| a)
}
