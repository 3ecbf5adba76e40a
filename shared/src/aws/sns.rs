//! Alerts to an SNS topic, with message attributes for subscription filter policies.

use super::{Failure, classify, refusal};
use crate::alert::Alert;
use crate::ports::{Notifier, NotifyError};
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        SnsNotifier {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

impl Notifier for SnsNotifier {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&alert.subject)
            .message(&alert.body);
        for (name, value) in &alert.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| NotifyError::Rejected(format!("attribute {name}: {e}")))?;
            request = request.message_attributes(name, attribute);
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(err) => Err(match classify(&err) {
                Failure::Transient(text) => NotifyError::Unavailable(text),
                Failure::Service { code, message } => NotifyError::Rejected(refusal(
                    &code,
                    &message,
                    &format!("SNS topic `{}`", self.topic_arn),
                )),
            }),
        }
    }
}
