//! What every Lapor Lambda `main` shares, so each one only names what it needs: the AWS
//! configuration (loaded once), the stores, the notifier and the mailer built from it,
//! configuration read from the environment with a clear message when it is missing, the pepper
//! from Secrets Manager, and the loop that feeds a DynamoDB stream batch to a consumer.

use std::future::Future;
use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::DynamoDbEventResponse;
use lambda_runtime::{service_fn, LambdaEvent};
use lapor_core::{AgencyId, Email, KeyPepper};
use lapor_notifier::{SesMailer, SnsNotifier};
use lapor_store::{DynamoStore, Pepper, PepperRead, Stores};

pub use lambda_runtime::Error;

/// The AWS configuration every Lapor binary uses: region, credentials and endpoint from the usual
/// environment and chain, over HTTPS with rustls on the ring crypto provider. The SDK's default
/// client brings aws-lc, which made the smallest function's bootstrap over a megabyte larger;
/// ring does the TLS that AWS endpoints need.
///
/// Only Amazon Trust Services' roots are trusted ([`AWS_ROOTS`]): every AWS endpoint's
/// certificate chains to them, and reading and parsing the system's whole CA store (some 150
/// certificates) took 3 to 5 ms of every cold start, more than a hello-world function's init.
///
/// `LAPOR_LOCAL_ENDPOINT`, when set and not empty, sends every client to that endpoint (moto).
/// The template declares it empty so that `sam local`'s env-vars file, which can only override
/// variables the template declares, can point the emulated functions at moto; in AWS it stays
/// empty and the SDK's own endpoints are used.
pub async fn aws_config() -> aws_config::SdkConfig {
    loader().load().await
}

/// [`aws_config`] as a Lambda function loads it: region and credentials straight from the
/// variables Lambda (and `sam local`) always sets. The default chains instead build an STS client
/// (web identity) and an IMDS client at every start only to try them after the environment,
/// about 0.6 ms of a full core (measured in `web`), some 8 ms at a 128 MB function's CPU share.
async fn lambda_config() -> aws_config::SdkConfig {
    use aws_config::environment::{
        EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
    };
    loader()
        .region(EnvironmentVariableRegionProvider::new())
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .load()
        .await
}

fn loader() -> aws_config::ConfigLoader {
    use aws_smithy_http_client::tls;
    // Building a context only fails on settings this one does not make.
    let context = tls::TlsContext::builder()
        .with_trust_store(tls::TrustStore::empty().with_pem_certificate(AWS_ROOTS))
        .build()
        .expect("a TLS context of only a trust store builds");
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https();
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https);
    match local_endpoint(std::env::var(LOCAL_ENDPOINT).ok()) {
        Some(url) => loader.endpoint_url(url),
        None => loader,
    }
}

/// Amazon Root CA 1 to 4 and Starfield Services Root Certificate Authority G2, which cross-signs
/// them: the roots AWS service endpoints chain to, in PEM.
pub const AWS_ROOTS: &[u8] = include_bytes!("aws-roots.pem");

/// The variable `sam local` sets to reach moto (see [`aws_config`]).
pub const LOCAL_ENDPOINT: &str = "LAPOR_LOCAL_ENDPOINT";

fn local_endpoint(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A function's start-up: JSON logs, then one AWS configuration shared by all its clients.
pub struct Bootstrap {
    config: aws_config::SdkConfig,
}

impl Bootstrap {
    pub async fn start() -> Self {
        lambda_runtime::tracing::init_default_subscriber();
        Self {
            config: lambda_config().await,
        }
    }

    /// Every store port, on the table named by `TABLE_NAME`.
    pub fn stores(&self) -> Result<Stores, Error> {
        let table = required("TABLE_NAME")?;
        let client = aws_sdk_dynamodb::Client::new(&self.config);
        Ok(Stores::of(Arc::new(DynamoStore::new(client, table))))
    }

    /// The server's secret (see [`read_pepper`]) from the secret named by
    /// `ACCESS_KEY_PEPPER_SECRET`, read once. The function's configuration holds only the
    /// secret's ARN, so whoever may read the configuration (`GetFunctionConfiguration`) still
    /// cannot derive an access key or reverse a keyed phone number; reading the secret needs its
    /// own grant.
    ///
    /// The read starts now as a task of its own: start-up does not wait for the round trip to
    /// Secrets Manager. The functions run on one thread, so the task works whenever the function
    /// waits on the network (the Runtime API's first `next`, the first request's own calls), and
    /// a request that needs the secret waits only for what is left of the read. For the
    /// functions whose first request nearly always needs it (intake, sms).
    pub fn pepper(&self) -> Result<Pepper, Error> {
        let read = self.pepper_read()?;
        Ok(Pepper::read_now(read))
    }

    /// [`pepper`](Self::pepper), read only when a request first needs it: for the functions
    /// whose requests mostly do not (the portal's pages, notify's batches without a reporter to
    /// tell), so that they never pay for the read.
    pub fn pepper_on_first_use(&self) -> Result<Pepper, Error> {
        let read = self.pepper_read()?;
        Ok(Pepper::on_first_use(read))
    }

    fn pepper_read(&self) -> Result<impl Fn() -> PepperRead + Send + Sync + 'static, Error> {
        let secret = required(PEPPER_SECRET)?;
        let secrets = self.secrets();
        Ok(move || -> PepperRead {
            let (secrets, secret) = (secrets.clone(), secret.clone());
            Box::pin(async move {
                read_pepper(&secrets.client(), &secret)
                    .await
                    .map_err(|e| e.to_string())
            })
        })
    }

    /// Secrets Manager, for secrets read after start-up.
    pub fn secrets(&self) -> Secrets {
        Secrets(self.config.clone())
    }

    /// Evidence files in the bucket named by `EVIDENCE_BUCKET`.
    pub fn evidence_files(&self) -> Result<Arc<lapor_files::S3Files>, Error> {
        let bucket = required("EVIDENCE_BUCKET")?;
        Ok(Arc::new(lapor_files::S3Files::new(&self.config, bucket)))
    }

    /// [`evidence_files`](Self::evidence_files) and the largest file accepted
    /// (`EVIDENCE_MAX_BYTES`), as the functions that offer uploads need them.
    pub fn evidence(&self) -> Result<(Arc<lapor_files::S3Files>, u64), Error> {
        let max = number(
            "EVIDENCE_MAX_BYTES",
            lapor_core::attachment::DEFAULT_MAX_FILE_BYTES,
        )?;
        Ok((self.evidence_files()?, max))
    }

    /// The notifier on the topic named by `TOPIC_ARN` (and SMS to phone numbers).
    pub fn notifier(&self) -> Result<Arc<SnsNotifier>, Error> {
        let topic = required("TOPIC_ARN")?;
        let client = aws_sdk_sns::Client::new(&self.config);
        Ok(Arc::new(SnsNotifier::new(client, topic)))
    }

    /// E-mail through SES from the address in `MAIL_FROM` (the stack's `MailFrom`), or `None`
    /// when it is empty or unset: e-mail is off and nothing is sent.
    pub fn mailer(&self) -> Result<Option<Arc<SesMailer>>, Error> {
        Ok(mail_from(std::env::var(MAIL_FROM).ok())?
            .map(|from| Arc::new(SesMailer::new(&self.config, from))))
    }
}

/// Secrets Manager as a function reaches it after start-up: the client is built only when a
/// secret is read (some 0.25 ms of a full core, about 3 ms at a 128 MB function's CPU share),
/// never at start-up for a read that happens later or not at all.
#[derive(Clone)]
pub struct Secrets(aws_config::SdkConfig);

impl Secrets {
    /// A client for one read.
    pub fn client(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.0)
    }
}

/// The variable naming the address mail is sent from (empty: no e-mail).
pub const MAIL_FROM: &str = "MAIL_FROM";

fn mail_from(value: Option<String>) -> Result<Option<Email>, Error> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(address) => Email::parse(address)
            .map(Some)
            .map_err(|_| format!("{MAIL_FROM} must be an e-mail address").into()),
    }
}

/// An environment variable that must be set.
pub fn required(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

/// The variable naming the Secrets Manager secret (ARN or name) that holds the pepper.
pub const PEPPER_SECRET: &str = "ACCESS_KEY_PEPPER_SECRET";

/// Reads the server's secret for deriving access keys and identity keys from Secrets Manager.
/// Errors name the secret, never its value.
pub async fn read_pepper(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<KeyPepper, Error> {
    let value = read_secret(client, secret_id, "pepper").await?;
    KeyPepper::new(value.into_bytes()).ok_or_else(|| {
        format!("the pepper secret {secret_id} must hold a string of at least 32 bytes").into()
    })
}

/// The text of a Secrets Manager secret; `what` names it in errors, which never hold its value.
pub async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    what: &str,
) -> Result<String, Error> {
    let answer = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            format!(
                "reading the {what} secret {secret_id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?;
    answer
        .secret_string()
        .map(str::to_string)
        .ok_or_else(|| format!("the {what} secret {secret_id} holds no text").into())
}

/// An agency id from the environment, or `default` when the variable is not set.
pub fn agency(name: &str, default: Option<&str>) -> Result<AgencyId, Error> {
    let value = match (std::env::var(name), default) {
        (Ok(value), _) => value,
        (Err(_), Some(default)) => default.to_string(),
        (Err(_), None) => return Err(format!("{name} is not set").into()),
    };
    AgencyId::parse(&value).map_err(|e| format!("{name}: {}", e.message.en).into())
}

/// `REPLIES_PER_DAY`: replies one report takes from its reporter per local day (the template's
/// `RepliesPerDay` parameter), or the default.
pub fn replies_per_day() -> Result<u32, Error> {
    let default = u64::from(lapor_core::lifecycle::DEFAULT_REPLIES_PER_DAY);
    let value = number("REPLIES_PER_DAY", default)?;
    u32::try_from(value)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| "REPLIES_PER_DAY must be a whole number from 1 to 4294967295".into())
}

/// A whole number from the environment, or `default` when the variable is not set.
pub fn number(name: &str, default: u64) -> Result<u64, Error> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a whole number").into()),
        Err(_) => Ok(default),
    }
}

/// Serves a DynamoDB stream consumer: `handle` answers each batch with the records that
/// failed (see `lapor_store::handle_changes`), so Lambda retries only those.
pub async fn run_stream<F, Fut>(handle: F) -> Result<(), Error>
where
    F: Fn(Event) -> Fut,
    Fut: Future<Output = DynamoDbEventResponse> + Send,
{
    let handle = &handle;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(handle(event.payload).await)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::{local_endpoint, mail_from};

    #[test]
    fn an_empty_mail_from_turns_e_mail_off_and_a_bad_one_stops_the_start() {
        assert!(matches!(mail_from(None), Ok(None)));
        assert!(matches!(mail_from(Some(" ".into())), Ok(None)));
        let from = mail_from(Some("lapor@lapor.example.go.id".into()));
        assert_eq!(
            from.ok().flatten().as_ref().map(|e| e.as_str()),
            Some("lapor@lapor.example.go.id")
        );
        assert!(mail_from(Some("bukan-alamat".into())).is_err());
    }

    #[test]
    fn the_trusted_roots_are_amazons_five() {
        let pem = std::str::from_utf8(super::AWS_ROOTS).expect("PEM is text");
        let certificates = pem
            .lines()
            .filter(|l| *l == "-----BEGIN CERTIFICATE-----")
            .count();
        assert_eq!(certificates, 5);
    }

    #[test]
    fn an_empty_local_endpoint_leaves_the_sdk_endpoints_alone() {
        assert_eq!(local_endpoint(None), None);
        assert_eq!(local_endpoint(Some(String::new())), None);
        assert_eq!(local_endpoint(Some("  ".into())), None);
        assert_eq!(
            local_endpoint(Some("http://127.0.0.1:5000".into())).as_deref(),
            Some("http://127.0.0.1:5000")
        );
    }
}
