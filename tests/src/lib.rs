//! Shared helpers for Lapor's integration tests: DynamoDB clients pointed at the moto server that
//! `scripts/test` starts, with a request counter, and unique names so tests never share state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// Records the operation name of every HTTP request a client sends (retries included).
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<String>>>);

impl RequestLog {
    pub fn operations(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut v) = self.0.lock() {
            v.clear();
        }
    }
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "unknown".into());
        if let Ok(mut v) = self.0.lock() {
            v.push(name);
        }
        Ok(())
    }
}

/// A DynamoDB client for the moto server named by `AWS_ENDPOINT_URL`, and its request log.
///
/// Without an endpoint the test is skipped with a message, unless `LAPOR_REQUIRE_MOTO` is set
/// (as `scripts/test` sets it), where a missing endpoint fails the test: CI never skips silently.
pub async fn moto_dynamodb() -> Option<(aws_sdk_dynamodb::Client, RequestLog)> {
    let shared = moto_config().await?;
    let log = RequestLog::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&shared)
        .interceptor(log.clone())
        .build();
    Some((aws_sdk_dynamodb::Client::from_conf(config), log))
}

/// The AWS configuration for the moto server named by `AWS_ENDPOINT_URL` (see [`moto_dynamodb`]).
pub async fn moto_config() -> Option<aws_config::SdkConfig> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(
            std::env::var_os("LAPOR_REQUIRE_MOTO").is_none(),
            "LAPOR_REQUIRE_MOTO is set but AWS_ENDPOINT_URL is not: start moto (scripts/test does)"
        );
        eprintln!("skipped: no AWS_ENDPOINT_URL (run scripts/test to start moto)");
        return None;
    }
    Some(lapor_lambda::aws_config().await)
}

/// Reads a table's DynamoDB stream on the wire and hands its records over in the shape Lambda
/// delivers them to a stream-fed function.
pub struct TableStream {
    client: aws_sdk_dynamodbstreams::Client,
    iterators: Vec<String>,
}

impl TableStream {
    /// Opens every shard of the table's latest stream from its oldest record.
    pub async fn open(config: &aws_config::SdkConfig, table: &str) -> TableStream {
        let described = aws_sdk_dynamodb::Client::new(config)
            .describe_table()
            .table_name(table)
            .send()
            .await
            .expect("describe table");
        let arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .expect("the table has a stream")
            .to_string();
        let client = aws_sdk_dynamodbstreams::Client::new(config);
        let stream = client
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await
            .expect("describe stream");
        let mut iterators = Vec::new();
        for shard in stream
            .stream_description()
            .map(|d| d.shards())
            .unwrap_or_default()
        {
            let iterator = client
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(shard.shard_id().unwrap_or_default())
                .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
                .send()
                .await
                .expect("shard iterator");
            iterators.extend(iterator.shard_iterator().map(String::from));
        }
        TableStream { client, iterators }
    }

    /// The records written since the last call, as a Lambda DynamoDB stream event.
    pub async fn next_event(&mut self) -> aws_lambda_events::dynamodb::Event {
        let mut event = aws_lambda_events::dynamodb::Event::default();
        let mut next_iterators = Vec::new();
        for iterator in std::mem::take(&mut self.iterators) {
            let out = self
                .client
                .get_records()
                .shard_iterator(&iterator)
                .send()
                .await
                .expect("get records");
            event
                .records
                .extend(out.records().iter().map(lambda_record));
            next_iterators.push(
                out.next_shard_iterator()
                    .map(String::from)
                    .unwrap_or(iterator),
            );
        }
        self.iterators = next_iterators;
        event
    }
}

fn lambda_record(
    record: &aws_sdk_dynamodbstreams::types::Record,
) -> aws_lambda_events::dynamodb::EventRecord {
    let image = |item: Option<
        &std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>,
    >| { serde_dynamo::Item::from(item.cloned().unwrap_or_default()) };
    let stream = record.dynamodb();
    let mut change = aws_lambda_events::dynamodb::StreamRecord::default();
    change.keys = image(stream.and_then(|s| s.keys.as_ref()));
    change.new_image = image(stream.and_then(|s| s.new_image.as_ref()));
    change.old_image = image(stream.and_then(|s| s.old_image.as_ref()));
    change.sequence_number = stream.and_then(|s| s.sequence_number()).map(String::from);
    let mut out = aws_lambda_events::dynamodb::EventRecord::default();
    out.event_id = record.event_id().unwrap_or_default().to_string();
    out.event_name = record
        .event_name()
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    out.aws_region = "ap-southeast-3".into();
    out.change = change;
    out
}

/// Every item of `table`, read with a consistent, paginated Scan: what was really written.
pub async fn scan_items(
    config: &aws_config::SdkConfig,
    table: &str,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let client = aws_sdk_dynamodb::Client::new(config);
    match try_scan_items(&client, table).await {
        Ok(items) => items,
        Err(e) => panic!("{e}"),
    }
}

/// [`scan_items`] for callers that report a failure instead of panicking (the benchmarks).
pub async fn try_scan_items(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>, String>
{
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "scanning {table}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            })?;
        items.extend(out.items().iter().cloned());
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// How long a test waits for what runs after a write (lapor-local's in-process stream consumers,
/// a stream fed through moto): long enough for a slow, loaded CI machine. A passing test stops
/// waiting as soon as the state is reached, so this costs nothing there.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// Calls `probe` every 25 ms until `done` holds for what it returned, and returns that. When
/// [`PATIENCE`] runs out first the test fails, naming `what` it waited for and the last value.
pub async fn eventually<T: std::fmt::Debug>(
    what: &str,
    mut probe: impl AsyncFnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let seen = probe().await;
        if done(&seen) {
            return seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waited {PATIENCE:?} for {what}; last seen: {seen:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// Status and JSON body (null when the body is not JSON) of `request` handed to `router`
/// in-process, as API Gateway hands a request to a function.
pub async fn send(
    router: &axum::Router,
    request: axum::http::Request<axum::body::Body>,
) -> (u16, serde_json::Value) {
    use tower::ServiceExt;
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// `request` as an officer of `agency` with `role` sends it: the claims the JWT authorizer
/// passes on, in the request's context.
pub fn as_officer(
    mut request: axum::http::Request<axum::body::Body>,
    agency: &str,
    role: lapor_core::Role,
) -> axum::http::Request<axum::body::Body> {
    use lapor_http::auth::{context_with_claims, CLAIM_AGENCY, CLAIM_ROLE};
    let claims = std::collections::HashMap::from([
        ("sub".to_string(), format!("petugas-{agency}")),
        (CLAIM_AGENCY.to_string(), agency.to_string()),
        (CLAIM_ROLE.to_string(), role.as_str().to_string()),
    ]);
    request.extensions_mut().insert(context_with_claims(claims));
    request
}

/// A name no other test (or earlier run against the same moto) uses.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A valid Kota Cirebon pothole report, as a citizen would submit it.
pub fn pothole_json() -> serde_json::Value {
    serde_json::json!({
        "type": "pengaduan",
        "title": "Jalan berlubang di Jalan Cipto",
        "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
        "category": "infrastruktur",
        "region": "32.74",
        "location": {"address": "Jl. Dr. Cipto Mangunkusumo, Kota Cirebon", "lat": -6.7153, "lon": 108.5505},
        "privacy": "publik",
        "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890", "email": "siti.aminah@example.id"}
    })
}

/// lapor-local's whole router over a store (agency directory loaded, stream consumers running),
/// served on a free loopback port until dropped, with officer tokens it accepts.
pub struct LocalServer {
    pub url: String,
    pub tokens: lapor_local::LocalTokens,
    pub http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl LocalServer {
    pub async fn start(stores: lapor_store::Stores) -> LocalServer {
        lapor_admin::import_agencies(
            stores.directory.as_ref(),
            lapor_core::Directory::bundled_sample(),
        )
        .await
        .expect("directory");
        let tokens = lapor_local::LocalTokens::new(b"lapor-tests-local-secret".to_vec());
        let pepper = lapor_core::KeyPepper::new(vec![5; 32]).expect("pepper");
        let clock = std::sync::Arc::new(lapor_core::SystemClock);
        let local = lapor_local::assemble(stores, clock, pepper, tokens.clone());
        let listener = lapor_local::listen("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("listen");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(lapor_local::serve(listener, local.router, async {
            let _ = stopped.await;
        }));
        LocalServer {
            url,
            tokens,
            http: reqwest::Client::new(),
            _stop: stop,
        }
    }

    /// The request, sent with a token for an officer of `agency` with `role`.
    pub fn officer(
        &self,
        request: reqwest::RequestBuilder,
        agency: &str,
        role: lapor_core::Role,
    ) -> reqwest::RequestBuilder {
        let agency = lapor_core::AgencyId::parse(agency).expect("agency");
        let token = self
            .tokens
            .issue("petugas-uji", &agency, role, 1)
            .expect("token");
        request.bearer_auth(token)
    }

    /// Status and JSON body (null when the body is not JSON).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }
}

/// A new SNS topic on moto, named from `prefix`; its ARN.
pub async fn new_topic(config: &aws_config::SdkConfig, prefix: &str) -> String {
    aws_sdk_sns::Client::new(config)
        .create_topic()
        .name(unique_name(prefix))
        .send()
        .await
        .expect("topic")
        .topic_arn
        .expect("topic arn")
}

/// A queue subscribed to a topic, standing in for a subscriber (an agency, or a Lambda function).
pub struct SubscribedQueue {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub subscription_arn: String,
}

impl SubscribedQueue {
    /// A new queue subscribed to `topic_arn`, with `filter_policy` when given. `raw`: the queue
    /// gets the bare message instead of SNS's JSON envelope.
    pub async fn subscribe(
        config: &aws_config::SdkConfig,
        topic_arn: &str,
        filter_policy: Option<String>,
        raw: bool,
    ) -> SubscribedQueue {
        use aws_sdk_sqs::types::QueueAttributeName;
        let sqs = aws_sdk_sqs::Client::new(config);
        let queue_url = sqs
            .create_queue()
            .queue_name(unique_name("subscriber"))
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("queue url");
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .expect("queue arn");
        let subscription_arn = aws_sdk_sns::Client::new(config)
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .set_attributes(Some(
                filter_policy
                    .map(|policy| ("FilterPolicy".to_string(), policy))
                    .into_iter()
                    .chain(raw.then(|| ("RawMessageDelivery".to_string(), "true".to_string())))
                    .collect(),
            ))
            .send()
            .await
            .expect("subscribe")
            .subscription_arn
            .unwrap_or_default();
        SubscribedQueue {
            sqs,
            queue_url,
            subscription_arn,
        }
    }

    /// Every message body waiting in the queue (three short polls).
    pub async fn drain(&self) -> Vec<String> {
        let mut bodies = Vec::new();
        for _ in 0..3 {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            bodies.extend(
                out.messages()
                    .iter()
                    .map(|m| m.body().unwrap_or_default().to_string()),
            );
        }
        bodies
    }
}

/// A new table on moto with the bundled agency directory imported; the store and the table name.
pub async fn directory_table(
    config: &aws_config::SdkConfig,
    prefix: &str,
) -> (Arc<lapor_store::DynamoStore>, String) {
    let table = unique_name(prefix);
    let store = lapor_store::DynamoStore::new(aws_sdk_dynamodb::Client::new(config), &table);
    store.create_table_if_missing().await.expect("table");
    lapor_admin::import_agencies(&store, lapor_core::Directory::bundled_sample())
        .await
        .expect("directory");
    (Arc::new(store), table)
}

/// An address SES on moto may send from (moto, like SES, refuses an unverified sender): a new one
/// per call, verified with `CreateEmailIdentity`.
pub async fn verified_sender(config: &aws_config::SdkConfig) -> lapor_core::Email {
    let address = format!("{}@lapor.example.go.id", unique_name("pengirim"));
    aws_sdk_sesv2::Client::new(config)
        .create_email_identity()
        .email_identity(&address)
        .send()
        .await
        .expect("sender identity");
    lapor_core::Email::parse(&address).expect("address")
}

/// The mails SES on moto has "sent" to `to` (`GET /_lapor/mail-sent`, see
/// `scripts/lib/moto_server.py`), oldest first: `{"id", "region", "from", "to", "subject",
/// "text"}` each.
pub async fn mails_sent_to(to: &str) -> Vec<serde_json::Value> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("moto");
    let all: Vec<serde_json::Value> = reqwest::get(format!("{endpoint}/_lapor/mail-sent"))
        .await
        .expect("mail sink")
        .json()
        .await
        .expect("mail sink json");
    all.into_iter()
        .filter(|m| {
            m["to"]
                .as_array()
                .is_some_and(|to_all| to_all.iter().any(|a| a == to))
        })
        .collect()
}

/// Faults the moto server answers with instead of doing the call (see `scripts/lib/moto_server.py`):
/// DynamoDB's, SNS's and SES's real error shapes, which moto itself never produces. Rules are tagged
/// with this value's own name, so a test removes only its own.
pub struct Faults {
    endpoint: String,
    tag: String,
    http: reqwest::Client,
}

impl Faults {
    /// The fault controls of the moto server named by `AWS_ENDPOINT_URL`.
    pub fn on_moto() -> Option<Faults> {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").ok()?;
        Some(Faults {
            endpoint,
            tag: unique_name("faults"),
            http: reqwest::Client::new(),
        })
    }

    /// Adds a rule, e.g. `{"service": "dynamodb", "operation": "TransactWriteItems",
    /// "contains": [table], "error": "TransactionConflict", "share": 0.3}`.
    pub async fn add(&self, mut rule: serde_json::Value) {
        rule["tag"] = serde_json::Value::String(self.tag.clone());
        let response = self
            .http
            .post(format!("{}/_lapor/faults", self.endpoint))
            .json(&rule)
            .send()
            .await
            .expect("fault rule");
        assert!(response.status().is_success(), "fault rule refused: {rule}");
    }

    /// How often this value's rules fired so far.
    pub async fn fired(&self) -> u64 {
        let rules: Vec<serde_json::Value> = self
            .http
            .get(format!("{}/_lapor/faults", self.endpoint))
            .send()
            .await
            .expect("fault list")
            .json()
            .await
            .expect("fault list json");
        rules
            .iter()
            .filter(|r| r["tag"] == self.tag.as_str())
            .filter_map(|r| r["fired"].as_u64())
            .sum()
    }

    /// Removes this value's rules.
    pub async fn clear(&self) {
        self.http
            .delete(format!("{}/_lapor/faults?tag={}", self.endpoint, self.tag))
            .send()
            .await
            .expect("clear faults");
    }
}

/// Records every AWS call a client makes as the IAM (action, resource) pairs it needs: a
/// transaction needs the item-level action of each of its items, a query on an index needs the
/// index. Resources are named as the template test names them: `table`, `index/<name>`,
/// `topic`, `phones`, `mail-from` (the SES identity mail is sent from).
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<std::collections::BTreeSet<(String, String)>>>);

impl CallLog {
    pub fn calls(&self) -> std::collections::BTreeSet<(String, String)> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    fn record(&self, pairs: impl IntoIterator<Item = (String, String)>) {
        if let Ok(mut v) = self.0.lock() {
            v.extend(pairs);
        }
    }

    /// A DynamoDB client on `config` whose calls this log records.
    pub fn dynamodb(&self, config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::config::Builder::from(config)
            .interceptor(self.clone())
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    /// An S3 client on `config` (path-style, as for moto) whose calls this log records.
    pub fn s3(&self, config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .interceptor(self.clone())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// A request made with a presigned URL, which acts with the role that signed it: `action`
    /// (`s3:PutObject`, `s3:GetObject`) on the URL's evidence prefix.
    pub fn presigned(&self, action: &str, url: &str) {
        self.record([(action.to_string(), s3_prefix(url))]);
    }

    /// An SNS client on `config` whose calls this log records.
    pub fn sns(&self, config: &aws_config::SdkConfig) -> aws_sdk_sns::Client {
        let conf = aws_sdk_sns::config::Builder::from(config)
            .interceptor(self.clone())
            .build();
        aws_sdk_sns::Client::from_conf(conf)
    }

    /// An SES (API v2) client on `config` whose calls this log records.
    pub fn sesv2(&self, config: &aws_config::SdkConfig) -> aws_sdk_sesv2::Client {
        let conf = aws_sdk_sesv2::config::Builder::from(config)
            .interceptor(self.clone())
            .build();
        aws_sdk_sesv2::Client::from_conf(conf)
    }
}

/// The evidence bucket prefix a request's path is under, as the role test names it.
fn s3_prefix(path: &str) -> String {
    if path.contains("/quarantine/") {
        "quarantine/*".into()
    } else if path.contains("/evidence/") {
        "evidence/*".into()
    } else if path.contains("/staging/") {
        "staging/*".into()
    } else {
        format!("bucket {path}")
    }
}

fn dynamodb_pairs(operation: &str, body: &serde_json::Value) -> Vec<(String, String)> {
    let on_table = |action: &str| (format!("dynamodb:{action}"), "table".to_string());
    match operation {
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item.as_object()?.keys().next().cloned())
            .map(|kind| match kind.as_str() {
                "ConditionCheck" => on_table("ConditionCheckItem"),
                other => on_table(&format!("{other}Item")),
            })
            .collect(),
        "Query" | "Scan" => match body["IndexName"].as_str() {
            Some(index) => vec![(format!("dynamodb:{operation}"), format!("index/{index}"))],
            None => vec![on_table(operation)],
        },
        other => vec![on_table(other)],
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(meta) = cfg.load::<Metadata>() else {
            return Ok(());
        };
        let body = context.request().body().bytes().unwrap_or_default();
        let pairs = match meta.service() {
            "dynamodb" | "DynamoDB" => {
                let json = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
                dynamodb_pairs(meta.name(), &json)
            }
            "s3" | "S3" => vec![(
                format!("s3:{}", meta.name()),
                s3_prefix(context.request().uri()),
            )],
            // IAM names SES API v2 actions `ses:*`; SendEmail acts on the sender's identity.
            "sesv2" | "SESv2" => vec![(format!("ses:{}", meta.name()), "mail-from".to_string())],
            _ => {
                let form = String::from_utf8_lossy(body);
                let target = if form.contains("TopicArn=") {
                    "topic"
                } else {
                    "phones"
                };
                vec![(format!("sns:{}", meta.name()), target.to_string())]
            }
        };
        self.record(pairs);
        Ok(())
    }
}

/// Submits the pothole report through the intake function over `stores` at `clock`'s time, as a
/// citizen would; its tracking code.
pub async fn submit_pothole(
    stores: &lapor_store::Stores,
    clock: Arc<lapor_core::FixedClock>,
) -> lapor_core::TrackingCode {
    use tower::ServiceExt;
    let intake = lapor_intake::router(lapor_intake::Deps::new(
        stores,
        clock,
        lapor_core::Deadlines::indonesia(),
        lapor_core::KeyPepper::new(vec![7; 32]).expect("pepper"),
    ));
    let request = axum::http::Request::post("/reports")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(pothole_json().to_string()))
        .expect("request");
    let response = intake.oneshot(request).await.expect("response");
    assert_eq!(response.status(), 201);
    let receipt: serde_json::Value = serde_json::from_slice(
        &axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body"),
    )
    .expect("json");
    lapor_core::TrackingCode::parse(receipt["tracking_code"].as_str().expect("code"))
        .expect("valid code")
}
