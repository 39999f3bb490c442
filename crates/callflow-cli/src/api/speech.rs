//! `callflow api speech-profiles`.

use callflow_client::api::Operation;

use super::ApiOptions;
use super::output::{Failure, Success};

/// Lists the speech profiles (voices) of the account.
pub async fn run(opts: &ApiOptions) -> Result<Success, Failure> {
    let op = Operation::GetSpeechProfiles.operation_id();
    let r = opts
        .client()?
        .speech_profiles()
        .await
        .map_err(|e| Failure::client(op, &e))?;
    Ok(Success::new(op, &r))
}
