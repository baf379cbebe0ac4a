//! Keeps the SAM template, the function crates and the sample events in step: every binary in
//! `functions/` is deployed and every deployed binary exists; every event in `events/` is an event
//! its function really receives; every IAM statement is narrow; the table matches the store.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lapor_store::TableSpec;
use serde_yaml_ng::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Value {
    let path = root().join("infra/template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const LOGS: [&str; 2] = ["logs:CreateLogStream", "logs:PutLogEvents"];
const STREAM: [&str; 4] = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
];

/// The AWS actions each function calls, each on the resource it calls it on (its store methods,
/// its stream, its dead-letter queue, its topic), and nothing more. A function's role must grant
/// exactly these pairs: add them here when a function starts calling something new, and the
/// template must follow. Resources: `table`, `index/<name>`, `stream`, and the function's own
/// `logs` and `dlq`; `topic` (notifications), `phones` (SMS, which has no ARN), `mail-from` (the
/// SES identity of `MailFrom`).
fn calls(binary: &str) -> BTreeSet<(String, String)> {
    const TABLE: &str = "table";
    // Read once at run time (lapor_lambda::Bootstrap::pepper), by the functions that derive keys.
    const PEPPER: &str = "pepper";
    // The evidence bucket's two prefixes: uploads, and clean files.
    const QUARANTINE: &str = "quarantine/*";
    const EVIDENCE: &str = "evidence/*";
    let own: &[(&str, &str)] = match binary {
        // No report write touches a counter any more: PutItem covers the Put items of the
        // transactions, UpdateItem is only for counters (stats) and the SMS rate limit.
        "intake" => &[
            // The reports an Open311 listing found in the public feed.
            ("dynamodb:BatchGetItem", TABLE),
            ("dynamodb:GetItem", TABLE),
            ("dynamodb:PutItem", TABLE),
            ("dynamodb:Query", TABLE),
            ("dynamodb:Query", "index/feed"),
            // The per-client write counter (COUNT# items only; see hardening_problems).
            ("dynamodb:UpdateItem", TABLE),
            ("secretsmanager:GetSecretValue", PEPPER),
            // Presigned evidence URLs act with the role that signed them.
            ("s3:PutObject", QUARANTINE),
            ("s3:GetObject", EVIDENCE),
        ],
        "evidence" => &[
            ("dynamodb:GetItem", TABLE),
            ("dynamodb:PutItem", TABLE),
            ("s3:GetObject", QUARANTINE),
            ("s3:DeleteObject", QUARANTINE),
            ("s3:PutObject", EVIDENCE),
            ("sqs:SendMessage", "dlq"),
        ],
        "routing" => &[
            ("dynamodb:BatchGetItem", TABLE),
            ("dynamodb:GetItem", TABLE),
            ("dynamodb:PutItem", TABLE),
            ("sqs:SendMessage", "dlq"),
        ],
        "stats" => &[
            ("dynamodb:PutItem", TABLE),
            ("dynamodb:UpdateItem", TABLE),
            ("sqs:SendMessage", "dlq"),
        ],
        "notify" => &[
            ("dynamodb:PutItem", TABLE),
            ("dynamodb:GetItem", TABLE),
            // An answered report's timeline: the answer's words for the reporter's e-mail.
            ("dynamodb:Query", TABLE),
            // The per-number daily SMS and per-address daily e-mail counters.
            ("dynamodb:UpdateItem", TABLE),
            ("ses:SendEmail", "mail-from"),
            ("secretsmanager:GetSecretValue", PEPPER),
            ("sqs:SendMessage", "dlq"),
            ("sns:Publish", "topic"),
            ("sns:Publish", "phones"),
        ],
        "escalation" => &[("dynamodb:PutItem", TABLE), ("dynamodb:Query", "index/due")],
        "sms" => &[
            ("dynamodb:GetItem", TABLE),
            ("dynamodb:PutItem", TABLE),
            ("dynamodb:UpdateItem", TABLE),
            ("dynamodb:Query", TABLE),
            ("secretsmanager:GetSecretValue", PEPPER),
            ("sqs:SendMessage", "dlq"),
            ("sns:Publish", "phones"),
        ],
        // Query on the table: a report with its timeline; on the inbox index: the queues;
        // BatchGetItem: the routing rules the triage queue's suggestions come from.
        "officer" => &[
            ("dynamodb:BatchGetItem", TABLE),
            ("dynamodb:GetItem", TABLE),
            ("dynamodb:PutItem", TABLE),
            ("dynamodb:Query", TABLE),
            ("dynamodb:Query", "index/inbox"),
            ("s3:PutObject", QUARANTINE),
            ("s3:GetObject", EVIDENCE),
        ],
        // The portal: intake's calls (it calls intake's routes in-process), the public feed,
        // agency names, the key mail, and the staging area of refused forms' files. The console:
        // officer's calls (it calls officer's routes in-process), and its sign-in secret, read at
        // start-up by name.
        "web" => &[
            ("dynamodb:BatchGetItem", TABLE),
            ("dynamodb:GetItem", TABLE),
            ("dynamodb:PutItem", TABLE),
            ("dynamodb:Query", TABLE),
            ("dynamodb:Query", "index/feed"),
            ("dynamodb:Query", "index/inbox"),
            ("dynamodb:UpdateItem", TABLE),
            ("secretsmanager:GetSecretValue", PEPPER),
            ("secretsmanager:GetSecretValue", CONSOLE_SIGN_IN),
            ("ses:SendEmail", "mail-from"),
            ("s3:PutObject", QUARANTINE),
            ("s3:GetObject", EVIDENCE),
            ("s3:PutObject", "staging/*"),
            ("s3:GetObject", "staging/*"),
            ("s3:DeleteObject", "staging/*"),
        ],
        _ => &[],
    };
    let stream: &[&str] = if matches!(binary, "routing" | "stats" | "notify") {
        &STREAM
    } else {
        &[]
    };
    let pair = |(action, resource): (&str, &str)| (action.to_string(), resource.to_string());
    LOGS.iter()
        .map(|a| (*a, "logs"))
        .chain(own.iter().copied())
        .chain(stream.iter().map(|a| (*a, "stream")))
        .map(pair)
        .collect()
}

/// The console's sign-in secret, in the names `calls` uses.
const CONSOLE_SIGN_IN: &str = "console-sign-in";

/// The one secret ARN granted by name rather than by reference (a reference would be circular:
/// the console client names the HttpApi, which names the web function): the secret
/// `<stack>/console-sign-in` and the six characters Secrets Manager appends, nothing else.
const CONSOLE_SIGN_IN_ARN: &str = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/console-sign-in-??????";

/// The name the web function reads that secret by.
const CONSOLE_SIGN_IN_NAME: &str = "${AWS::StackName}/console-sign-in";

/// What a statement's resource is, in the names `calls` uses; anything unexpected keeps its
/// template text, so it cannot match a call. `prefix` is the function's logical id without
/// `Function`: its own log group and dead-letter queue carry it.
fn resource_name(v: &Value, prefix: &str) -> String {
    let Value::Tagged(t) = v else {
        return match v.as_str() {
            Some("arn:aws:sns:*:*:*") => "phones".into(),
            Some(other) => other.to_string(),
            None => format!("{v:?}"),
        };
    };
    let text = t.value.as_str().unwrap_or_default();
    let own_log_group = format!("{prefix}LogGroup.Arn");
    let own_queue = format!("{prefix}DeadLetterQueue.Arn");
    if t.tag == "GetAtt" {
        match text {
            "ReportsTable.Arn" => "table".into(),
            "ReportsTable.StreamArn" => "stream".into(),
            _ if text == own_log_group => "logs".into(),
            _ if text == own_queue => "dlq".into(),
            _ => format!("GetAtt {text}"),
        }
    } else if t.tag == "Sub" && text == MAIL_FROM_IDENTITY {
        "mail-from".into()
    } else if t.tag == "Sub" && text == CONSOLE_SIGN_IN_ARN {
        CONSOLE_SIGN_IN.into()
    } else if t.tag == "Sub" {
        text.strip_prefix("${ReportsTable.Arn}/")
            .or_else(|| text.strip_prefix("${EvidenceBucket.Arn}/"))
            .map_or_else(|| format!("Sub {text}"), String::from)
    } else if t.tag == "Ref" && text == "NotificationsTopic" {
        "topic".into()
    } else if t.tag == "Ref" && text == "AccessKeyPepper" {
        "pepper".into()
    } else {
        format!("{v:?}")
    }
}

/// The ARN of `MailFromIdentity`, the one SES identity any role may send from.
const MAIL_FROM_IDENTITY: &str =
    "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailFromIdentity}";

/// A statement as granted when its condition holds: `!If [Cond, statement, !Ref AWS::NoValue]`
/// is the statement (e-mail grants exist only while `MailFrom` is set); `None` for no statement.
fn when_granted(statement: &Value) -> Option<Value> {
    match statement {
        Value::Tagged(t) if t.tag == "If" => t
            .value
            .as_sequence()
            .and_then(|branches| branches.get(1))
            .filter(|granted| granted.is_mapping())
            .cloned(),
        other => Some(other.clone()),
    }
}

#[derive(Debug)]
struct Function {
    logical_id: String,
    binary: String,
    code_uri: String,
    event_types: BTreeSet<String>,
    http_routes: BTreeSet<String>,
    statements: Vec<Value>,
    /// SAM policies or managed policies, which this project does not use.
    broad_policies: Vec<String>,
}

/// The logical id a `!GetAtt X.Arn` names.
fn get_att_target(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) if t.tag == "GetAtt" => t
            .value
            .as_str()
            .and_then(|s| s.split('.').next())
            .map(String::from),
        _ => None,
    }
}

/// The statements of a role's inline policies, and anything broader it carries.
fn role_statements(template: &Value, role_id: &str) -> (Vec<Value>, Vec<String>) {
    let Some(props) = template
        .get("Resources")
        .and_then(|r| r.get(role_id))
        .and_then(|r| r.get("Properties"))
    else {
        return (Vec::new(), vec![format!("role {role_id} not found")]);
    };
    let mut broad = Vec::new();
    if props.get("ManagedPolicyArns").is_some() {
        broad.push(format!("{role_id} has ManagedPolicyArns"));
    }
    let statements = props
        .get("Policies")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p.get("PolicyDocument")
                .and_then(|d| d.get("Statement"))
                .and_then(Value::as_sequence)
        })
        .flatten()
        .filter_map(when_granted)
        .collect();
    (statements, broad)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for key in path {
        at = at.get(*key)?;
    }
    at.as_str()
}

fn functions(template: &Value) -> Vec<Function> {
    let Some(resources) = template.get("Resources").and_then(Value::as_mapping) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter(|(_, r)| str_at(r, &["Type"]) == Some("AWS::Serverless::Function"))
        .map(|(id, r)| {
            let props = r.get("Properties").cloned().unwrap_or(Value::Null);
            let events: Vec<&Value> = props
                .get("Events")
                .and_then(Value::as_mapping)
                .map(|m| m.values().collect())
                .unwrap_or_default();
            let (statements, mut broad_policies) = match props.get("Role").and_then(get_att_target)
            {
                Some(role) => role_statements(template, &role),
                None => (Vec::new(), vec!["no explicit Role".to_string()]),
            };
            if props.get("Policies").is_some() {
                broad_policies.push("SAM Policies on the function".into());
            }
            Function {
                logical_id: id.as_str().unwrap_or_default().to_string(),
                binary: str_at(r, &["Metadata", "BuildProperties", "Binary"])
                    .unwrap_or_default()
                    .to_string(),
                code_uri: str_at(&props, &["CodeUri"]).unwrap_or_default().to_string(),
                event_types: events
                    .iter()
                    .filter_map(|e| str_at(e, &["Type"]))
                    .map(String::from)
                    .collect(),
                http_routes: events
                    .iter()
                    .filter(|e| str_at(e, &["Type"]) == Some("HttpApi"))
                    .filter_map(|e| {
                        Some(format!(
                            "{} {}",
                            str_at(e, &["Properties", "Method"])?,
                            str_at(e, &["Properties", "Path"])?
                        ))
                    })
                    .collect(),
                statements,
                broad_policies,
            }
        })
        .collect()
}

/// Binary name → crate folder, for every `[[bin]]` of every crate under `functions/`.
fn binaries() -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let dir = root().join("functions");
    for entry in std::fs::read_dir(&dir).expect("functions/").flatten() {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let parsed: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        let bins = parsed
            .get("bin")
            .and_then(|b| b.as_array())
            .cloned()
            .unwrap_or_default();
        for bin in bins {
            if let Some(name) = bin.get("name").and_then(|n| n.as_str()) {
                found.insert(name.to_string(), entry.path());
            }
        }
    }
    found
}

/// Everything wrong between the template and the crates.
fn binary_problems(template: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let deployed = functions(template);
    let built = binaries();
    for f in &deployed {
        match built.get(&f.binary) {
            None => problems.push(format!(
                "{} deploys binary `{}`, which no crate in functions/ builds",
                f.logical_id, f.binary
            )),
            Some(dir) => {
                let uri = root().join("infra").join(&f.code_uri);
                if uri.canonicalize().ok() != dir.canonicalize().ok() {
                    problems.push(format!(
                        "{} has CodeUri {} but `{}` is built in {}",
                        f.logical_id,
                        f.code_uri,
                        f.binary,
                        dir.display()
                    ));
                }
            }
        }
    }
    for name in built.keys() {
        if !deployed.iter().any(|f| &f.binary == name) {
            problems.push(format!(
                "binary `{name}` in functions/ has no function in infra/template.yaml"
            ));
        }
    }
    problems
}

#[test]
fn every_function_binary_is_deployed_and_every_deployed_binary_exists() {
    let problems = binary_problems(&template());
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(!functions(&template()).is_empty());
}

#[test]
fn breaking_the_template_is_caught() {
    let removed = {
        let mut t = template();
        if let Some(r) = t.get_mut("Resources").and_then(Value::as_mapping_mut) {
            r.remove("IntakeFunction");
        }
        t
    };
    assert!(binary_problems(&removed)
        .iter()
        .any(|p| p.contains("`intake`") && p.contains("no function")));

    let renamed = {
        let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("template");
        serde_yaml_ng::from_str::<Value>(&text.replace("Binary: intake", "Binary: intake-v2"))
            .expect("yaml")
    };
    assert!(binary_problems(&renamed)
        .iter()
        .any(|p| p.contains("intake-v2")));
}

/// Checks one sample event against the event sources of the function it belongs to.
fn event_problem(function: &Function, name: &str, text: &str) -> Option<String> {
    let mut errors = Vec::new();
    for kind in &function.event_types {
        let result = match kind.as_str() {
            "HttpApi" => {
                serde_json::from_str::<aws_lambda_events::apigw::ApiGatewayV2httpRequest>(text)
                    .map_err(|e| e.to_string())
                    .and_then(|event| {
                        let route = event.route_key.unwrap_or_default();
                        if function.http_routes.contains(&route) {
                            lambda_http::request::from_str(text)
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        } else {
                            Err(format!(
                                "route `{route}` is not one of {:?}",
                                function.http_routes
                            ))
                        }
                    })
            }
            "DynamoDB" => serde_json::from_str::<aws_lambda_events::dynamodb::Event>(text)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            "SNS" => serde_json::from_str::<aws_lambda_events::sns::SnsEvent>(text)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            "SQS" => serde_json::from_str::<aws_lambda_events::sqs::SqsEvent>(text)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            "EventBridgeRule" => serde_json::from_str::<lapor_evidence_function::UploadEvent>(text)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            "Schedule" | "ScheduleV2" => {
                serde_json::from_str::<aws_lambda_events::eventbridge::EventBridgeEvent>(text)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            other => Err(format!("no event type known for source {other}")),
        };
        match result {
            Ok(()) => return None,
            Err(e) => errors.push(format!("as {kind}: {e}")),
        }
    }
    Some(format!("events/{name}: {}", errors.join("; ")))
}

#[test]
fn every_sample_event_is_an_event_its_function_receives() {
    let deployed = functions(&template());
    let mut problems = Vec::new();
    let mut checked = 0;
    for folder in std::fs::read_dir(root().join("events"))
        .expect("events/")
        .flatten()
    {
        let name = folder.file_name().to_string_lossy().to_string();
        let Some(function) = deployed
            .iter()
            .find(|f| f.code_uri == format!("../functions/{name}"))
        else {
            problems.push(format!(
                "events/{name}/ belongs to no function in the template"
            ));
            continue;
        };
        for file in std::fs::read_dir(folder.path()).expect("folder").flatten() {
            let text = std::fs::read_to_string(file.path()).expect("event file");
            let label = format!("{name}/{}", file.file_name().to_string_lossy());
            problems.extend(event_problem(function, &label, &text));
            checked += 1;
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(checked >= 5, "only {checked} events checked");
}

#[test]
fn an_event_for_a_route_that_does_not_exist_is_caught() {
    let deployed = functions(&template());
    let intake = deployed
        .iter()
        .find(|f| f.binary == "intake")
        .expect("intake");
    let text =
        std::fs::read_to_string(root().join("events/intake/submit-report.json")).expect("event");
    let moved = text.replace("POST /reports", "POST /laporan");
    assert!(event_problem(intake, "moved", &moved).is_some());
    assert!(event_problem(intake, "garbage", "{\"version\": 2}").is_some());
}

/// A statement's `Resource`, one value or a list, as YAML values.
fn resource_list(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Sequence(items)) => items.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items.iter().flat_map(|i| strings(Some(i))).collect(),
        Some(other) => vec![format!("{other:?}")],
        None => Vec::new(),
    }
}

/// The one statement allowed without a named resource: SMS to phone numbers, which have no
/// ARN, granted as "publish to anything that is not a topic".
fn is_sms_only(statement: &Value) -> bool {
    strings(statement.get("Action")) == ["sns:Publish"]
        && strings(statement.get("NotResource")) == ["arn:aws:sns:*:*:*"]
        && statement.get("Resource").is_none()
}

/// Where a role grants other than exactly what its function calls, on the resources it calls it on.
fn iam_problems(template: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for f in functions(template) {
        if !f.broad_policies.is_empty() {
            problems.push(format!(
                "{}: {:?}; give it its own role with narrow statements",
                f.logical_id, f.broad_policies
            ));
        }
        let prefix = f.logical_id.trim_end_matches("Function");
        let mut granted = BTreeSet::new();
        for statement in &f.statements {
            let actions = strings(statement.get("Action"));
            if actions.iter().any(|a| a.contains('*')) {
                problems.push(format!(
                    "{}: wildcard action in {statement:?}",
                    f.logical_id
                ));
            }
            let resources: Vec<String> = if is_sms_only(statement) {
                vec!["phones".into()]
            } else {
                let listed = resource_list(statement.get("Resource"));
                // The only wildcards allowed: the end of one of the evidence bucket's prefixes,
                // and the suffix Secrets Manager adds to the console secret's name.
                let wildcard = listed.iter().any(|r| {
                    format!("{r:?}").contains(['*', '?'])
                        && !matches!(
                            resource_name(r, prefix).as_str(),
                            "quarantine/*" | "evidence/*" | "staging/*" | CONSOLE_SIGN_IN
                        )
                });
                if listed.is_empty() || wildcard || statement.get("NotResource").is_some() {
                    problems.push(format!(
                        "{}: wildcard or missing resource in {statement:?}",
                        f.logical_id
                    ));
                }
                listed.iter().map(|r| resource_name(r, prefix)).collect()
            };
            for action in &actions {
                for resource in &resources {
                    granted.insert((action.clone(), resource.clone()));
                }
            }
        }
        let expected = calls(&f.binary);
        for missing in expected.difference(&granted) {
            problems.push(format!("{} calls {missing:?} but may not", f.logical_id));
        }
        for extra in granted.difference(&expected) {
            problems.push(format!("{} may {extra:?} but never does", f.logical_id));
        }
    }
    problems
}

#[test]
fn iam_statements_grant_only_what_each_function_calls_on_its_own_resources() {
    let problems = iam_problems(&template());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_role_missing_one_index_is_caught() {
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("template");
    let narrowed = text.replace(
        "Resource: !Sub \"${ReportsTable.Arn}/index/inbox\"",
        "Resource: !GetAtt ReportsTable.Arn",
    );
    assert_ne!(
        narrowed, text,
        "the officer and web roles name the inbox index"
    );
    let problems = iam_problems(&serde_yaml_ng::from_str(&narrowed).expect("yaml"));
    for function in ["OfficerFunction", "WebFunction"] {
        assert!(
            problems
                .iter()
                .any(|p| p.contains(function) && p.contains("index/inbox")),
            "{function}: {problems:#?}"
        );
    }
}

#[test]
fn a_role_missing_the_mail_grant_is_caught() {
    let mut t = template();
    let statements = t["Resources"]["NotifyRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_sequence_mut()
        .expect("NotifyRole statements");
    let before = statements.len();
    statements.retain(|s| !matches!(s, Value::Tagged(tagged) if tagged.tag == "If"));
    assert_eq!(
        statements.len() + 1,
        before,
        "notify's e-mail grant is conditional"
    );
    let problems = iam_problems(&t);
    assert!(
        problems.iter().any(|p| p.contains("NotifyFunction")
            && p.contains("ses:SendEmail")
            && p.contains("may not")),
        "{problems:#?}"
    );
}

#[test]
fn a_wildcard_grant_is_caught() {
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("template");
    let widened = text.replacen("Resource: !GetAtt ReportsTable.Arn", "Resource: \"*\"", 1);
    let t: Value = serde_yaml_ng::from_str(&widened).expect("yaml");
    let caught = functions(&t).iter().any(|f| {
        f.statements
            .iter()
            .any(|s| strings(s.get("Resource")).iter().any(|r| r.contains('*')))
    });
    assert!(caught);
}

#[test]
fn the_table_has_the_keys_and_ttl_the_store_uses() {
    let t = template();
    let table = t
        .get("Resources")
        .and_then(|r| r.get("ReportsTable"))
        .and_then(|r| r.get("Properties"))
        .expect("ReportsTable");
    let keys: Vec<(String, String)> = table
        .get("KeySchema")
        .and_then(Value::as_sequence)
        .expect("KeySchema")
        .iter()
        .map(|k| {
            (
                str_at(k, &["AttributeName"]).unwrap_or_default().into(),
                str_at(k, &["KeyType"]).unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            (TableSpec::PARTITION_KEY.to_string(), "HASH".to_string()),
            (TableSpec::SORT_KEY.to_string(), "RANGE".to_string())
        ]
    );
    assert_eq!(
        str_at(table, &["TimeToLiveSpecification", "AttributeName"]),
        Some(TableSpec::TTL_ATTRIBUTE)
    );
    assert_eq!(str_at(table, &["BillingMode"]), Some("PAY_PER_REQUEST"));
    assert_eq!(
        str_at(table, &["StreamSpecification", "StreamViewType"]),
        Some("NEW_AND_OLD_IMAGES")
    );
    // The indexes the store queries, with the keys it writes (create_table_if_missing builds the
    // same ones for lapor-local and the tests).
    let indexes: BTreeMap<String, (Vec<String>, String)> = table
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .expect("GlobalSecondaryIndexes")
        .iter()
        .map(|index| {
            let keys = index
                .get("KeySchema")
                .and_then(Value::as_sequence)
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| str_at(k, &["AttributeName"]).map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            (
                str_at(index, &["IndexName"]).unwrap_or_default().into(),
                (
                    keys,
                    str_at(index, &["Projection", "ProjectionType"])
                        .unwrap_or_default()
                        .into(),
                ),
            )
        })
        .collect();
    let expected = |keys: [&str; 2], projection: &str| {
        (keys.map(String::from).to_vec(), projection.to_string())
    };
    assert_eq!(
        indexes,
        BTreeMap::from([
            (
                TableSpec::INBOX_INDEX.to_string(),
                expected(TableSpec::INBOX_KEYS, "ALL")
            ),
            (
                TableSpec::DUE_INDEX.to_string(),
                expected(TableSpec::DUE_KEYS, "ALL")
            ),
            (
                TableSpec::FEED_INDEX.to_string(),
                expected(TableSpec::FEED_KEYS, "KEYS_ONLY")
            ),
        ])
    );
    let defined: BTreeSet<&str> = table
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .expect("AttributeDefinitions")
        .iter()
        .filter_map(|a| str_at(a, &["AttributeName"]))
        .collect();
    for (keys, _) in indexes.values() {
        for key in keys {
            assert!(defined.contains(key.as_str()), "{key} is not defined");
        }
    }
}

/// Each function's calls on the wire, recorded through its own clients while it does its work
/// on moto: every one must be in `calls` (and so granted by its role, above).
mod recorded {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use lapor_core::{AgencyId, Deadlines, FixedClock, KeyPepper, Role, TrackingCode};
    use lapor_notifier::SnsNotifier;
    use lapor_store::{DynamoStore, Stores};
    use lapor_tests::{
        as_officer, directory_table, moto_config, new_topic, pothole_json, send, CallLog,
        TableStream,
    };
    use serde_json::{json, Value};
    use tower::ServiceExt;

    type Calls = BTreeSet<(String, String)>;

    fn pepper_for_evidence() -> KeyPepper {
        KeyPepper::new(vec![9; 32]).expect("pepper")
    }

    fn post(path: &str, body: Value) -> Request<Body> {
        Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request")
    }

    fn get(path: &str) -> Request<Body> {
        Request::get(path).body(Body::empty()).expect("request")
    }

    #[tokio::test]
    async fn every_call_a_function_makes_is_one_its_role_grants() {
        let Some(config) = moto_config().await else {
            return;
        };
        let (_, table) = directory_table(&config, "calls").await;
        let topic = new_topic(&config, "calls").await;
        let logs: BTreeMap<&str, CallLog> = [
            "intake",
            "officer",
            "routing",
            "stats",
            "notify",
            "escalation",
            "sms",
            "evidence",
            "web",
        ]
        .into_iter()
        .map(|name| (name, CallLog::default()))
        .collect();
        let stores = |name: &str| {
            Stores::of(Arc::new(DynamoStore::new(
                logs[name].dynamodb(&config),
                &table,
            )))
        };
        let notifier = |name: &str| Arc::new(SnsNotifier::new(logs[name].sns(&config), &topic));
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
            .map(|t| t.to_utc())
            .expect("time");
        let clock = Arc::new(FixedClock::new(now));
        let pepper = KeyPepper::new(vec![9; 32]).expect("pepper");
        let mut stream = TableStream::open(&config, &table).await;

        // Intake: a submission, its idempotent retry, both views, the statistics.
        let intake = lapor_intake::router(
            lapor_intake::Deps::new(
                &stores("intake"),
                clock.clone(),
                Deadlines::indonesia(),
                pepper.clone(),
            )
            .with_client_limit(lapor_intake::ClientLimit::per_hour(100)),
        );
        let mut body = pothole_json();
        body["reporter"]["phone"] = json!("081234567890");
        let submit = || {
            let mut request = post("/reports", body.clone());
            request
                .headers_mut()
                .insert("idempotency-key", "calls-1".parse().expect("header"));
            // A client address, so the per-client write counter is counted too.
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from(([198, 51, 100, 7], 40_000)),
            ));
            request
        };
        let (status, receipt) = send(&intake, submit()).await;
        assert_eq!(status, 201, "{receipt}");
        assert_eq!(send(&intake, submit()).await.0, 201);
        let code = receipt["tracking_code"].as_str().expect("code").to_string();
        let key = receipt["access_key"].as_str().expect("key").to_string();
        let mut own = get(&format!("/reports/{code}"));
        own.headers_mut()
            .insert("x-access-key", key.parse().expect("header"));
        assert_eq!(send(&intake, own).await.0, 200);
        assert_eq!(send(&intake, get(&format!("/reports/{code}"))).await.0, 200);
        assert_eq!(send(&intake, get("/stats?region=32.74")).await.0, 200);
        // Open311: the public feed's window, then the reports it names.
        let (status, listed) = send(&intake, get("/open311/v2/requests.json")).await;
        assert_eq!(status, 200, "{listed}");
        assert_eq!(listed[0]["service_request_id"], code.as_str());

        // The stream consumers on the new report.
        let inserted = stream.next_event().await;
        let routing =
            lapor_routing::Deps::new(&stores("routing"), clock.clone(), Deadlines::indonesia());
        assert!(lapor_routing::handle_event(&routing, &inserted)
            .await
            .batch_item_failures
            .is_empty());
        let modified = stream.next_event().await;
        let stats = lapor_stats::Deps::new(&stores("stats"), clock.clone());
        let sender = lapor_tests::verified_sender(&config).await;
        let notify = lapor_notify::Deps::new(
            &stores("notify"),
            notifier("notify"),
            clock.clone(),
            AgencyId::parse("kemenpanrb").expect("id"),
            AgencyId::parse("ombudsman-ri").expect("id"),
            lapor_core::KeyPepper::new(vec![7; 32]).expect("pepper"),
        )
        .with_mailer(Arc::new(lapor_notifier::SesMailer::with_client(
            logs["notify"].sesv2(&config),
            sender,
        )));
        for event in [&inserted, &modified] {
            assert!(lapor_stats::handle_event(&stats, event)
                .await
                .batch_item_failures
                .is_empty());
            assert!(lapor_notify::handle_event(&notify, event)
                .await
                .batch_item_failures
                .is_empty());
        }

        // Officers: the inbox, the agency view, a return, the triage queue, a forward by the
        // central admin, a follow-up.
        let officers = lapor_officer::router(lapor_officer::Deps::new(
            &stores("officer"),
            clock.clone(),
            Deadlines::indonesia(),
        ));
        let dpupr = "kota-cirebon-dpupr";
        for (request, agency, role) in [
            (get("/agency/reports"), "kota-cirebon", Role::AgencyAdmin),
            (
                get(&format!("/agency/reports/{code}")),
                dpupr,
                Role::Officer,
            ),
            (
                post(
                    &format!("/reports/{code}/return"),
                    json!({"reason": "Jalan provinsi, bukan jalan kota."}),
                ),
                dpupr,
                Role::AgencyAdmin,
            ),
            (get("/admin/triage"), "kemenpanrb", Role::AdminPusat),
            (
                post(
                    &format!("/reports/{code}/forward"),
                    json!({"agency": dpupr}),
                ),
                "kemenpanrb",
                Role::AdminPusat,
            ),
            (
                post(
                    &format!("/reports/{code}/followups"),
                    json!({"status": "diproses", "message": "Sedang ditinjau."}),
                ),
                dpupr,
                Role::Officer,
            ),
        ] {
            let (status, answer) = send(&officers, as_officer(request, agency, role)).await;
            assert_eq!(status, 200, "{answer}");
        }

        // Notify on the officers' changes: the follow-up's e-mail reads its words from the
        // timeline and goes out through SES.
        let answered = stream.next_event().await;
        assert!(lapor_notify::handle_event(&notify, &answered)
            .await
            .batch_item_failures
            .is_empty());
        assert!(
            logs["notify"]
                .calls()
                .contains(&("ses:SendEmail".to_string(), "mail-from".to_string())),
            "the receipt and the answer were e-mailed"
        );

        // The sweep, long after every deadline.
        let later = now + chrono::Duration::days(90);
        let sweeper = lapor_escalation::Deps::new(
            &stores("escalation"),
            Arc::new(FixedClock::new(later)),
            Deadlines::indonesia(),
        );
        let summary = lapor_escalation::sweep(
            &sweeper,
            later,
            std::time::Instant::now() + std::time::Duration::from_secs(60),
        )
        .await
        .expect("sweep");
        assert!(summary.escalated >= 1, "{summary:?}");

        // SMS: a status check and a reply from the reporter's phone, and a new report.
        let sms = lapor_sms::Deps::new(
            &stores("sms"),
            notifier("sms"),
            clock,
            Deadlines::indonesia(),
            pepper,
            lapor_sms::DEFAULT_HOURLY_LIMIT,
        );
        let tracking = TrackingCode::parse(&code).expect("code");
        for (n, text) in [
            format!("CEK {tracking}"),
            format!("BALAS {tracking} Lubangnya makin besar."),
            "LAPOR Lampu jalan mati di Jl. Cipto, Kota Cirebon, sudah seminggu".to_string(),
        ]
        .into_iter()
        .enumerate()
        {
            let inbound = lapor_sms::InboundSms {
                origination_number: "+6281234567890".into(),
                destination_number: "1708".into(),
                message_body: text,
                inbound_message_id: format!("calls-sms-{n}"),
            };
            lapor_sms::handle_inbound(&sms, &inbound)
                .await
                .expect("sms");
        }

        // Evidence: the reporter's and the agency's uploads, the evidence function's work on them,
        // and the downloads. Presigned URLs act with the role of the function that signed them.
        let bucket = lapor_tests::unique_name("calls").to_ascii_lowercase();
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        )
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint("ap-southeast-3".into())
                .build(),
        )
        .send()
        .await
        .expect("bucket");
        let files = |name: &str| {
            Arc::new(lapor_files::S3Files::with_client(
                logs[name].s3(&config),
                &bucket,
            ))
        };
        let today = Arc::new(FixedClock::new(chrono::Utc::now()));
        let max = lapor_core::attachment::DEFAULT_MAX_FILE_BYTES;
        let intake = lapor_intake::router(
            lapor_intake::Deps::new(
                &stores("intake"),
                today.clone(),
                Deadlines::indonesia(),
                pepper_for_evidence(),
            )
            .with_files(files("intake"), max),
        );
        let officers = lapor_officer::router(
            lapor_officer::Deps::new(&stores("officer"), today.clone(), Deadlines::indonesia())
                .with_files(files("officer"), max),
        );
        let evidence = lapor_evidence_function::Deps::new(
            &stores("evidence"),
            files("evidence"),
            today.clone(),
            lapor_evidence::Limits::default(),
        );
        let png = include_bytes!("../data/evidence-sample.png");
        let asked = json!({"filename": "a.png", "content_type": "image/png", "size": png.len()});
        let mut by_reporter = post(&format!("/reports/{code}/attachments"), asked.clone());
        by_reporter
            .headers_mut()
            .insert("x-access-key", key.parse().expect("header"));
        let by_agency = as_officer(
            post(&format!("/agency/reports/{code}/attachments"), asked),
            dpupr,
            Role::Officer,
        );
        for (name, router, request) in [
            ("intake", &intake, by_reporter),
            ("officer", &officers, by_agency),
        ] {
            let (status, offer) = send(router, request).await;
            assert_eq!(status, 201, "{name}: {offer}");
            let url = offer["upload"]["url"].as_str().expect("url");
            let put = reqwest::Client::new()
                .put(url)
                .header("content-type", "image/png")
                .body(png.to_vec())
                .send()
                .await
                .expect("upload");
            assert!(put.status().is_success(), "{}", put.status());
            logs[name].presigned("s3:PutObject", url);
            let id = offer["id"].as_str().expect("id");
            let handled = lapor_evidence_function::handle_upload(
                &evidence,
                &format!("quarantine/{code}/{id}"),
                chrono::Utc::now(),
            )
            .await
            .expect("evidence");
            assert!(
                matches!(handled, lapor_evidence_function::Handled::Ready { .. }),
                "{handled:?}"
            );
        }
        let mut own = get(&format!("/reports/{code}"));
        own.headers_mut()
            .insert("x-access-key", key.parse().expect("header"));
        let agency_view = as_officer(
            get(&format!("/agency/reports/{code}")),
            dpupr,
            Role::Officer,
        );
        for (name, router, request) in [
            ("intake", &intake, own),
            ("officer", &officers, agency_view),
        ] {
            let (status, view) = send(router, request).await;
            assert_eq!(status, 200, "{view}");
            let url = view["attachments"][0]["download_url"]
                .as_str()
                .expect("download url");
            let got = reqwest::get(url).await.expect("download");
            assert!(got.status().is_success(), "{}", got.status());
            logs[name].presigned("s3:GetObject", url);
        }

        // Open311's write side: a partner's post (its key read, its quota counted) and the
        // token lookup. The key is issued as the operator's command issues it, not by intake.
        {
            use lapor_store::PartnerKeys;
            let (record, partner_key) = lapor_core::PartnerKey::issue(
                "Aplikasi Mitra",
                chrono::Utc::now().fixed_offset(),
                &mut rand::rng(),
            )
            .expect("key");
            DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), &table)
                .add_partner_key(&record)
                .await
                .expect("issued by the operator");
            let fields = format!(
                "api_key={}&service_code=infrastruktur&lat=-6.7153&long=108.5505\
                 &description=Lampu+jalan+mati+di+depan+pasar+sejak+seminggu.",
                partner_key.reveal()
            );
            let request = Request::post("/open311/v2/requests.json")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(fields))
                .expect("request");
            let (status, filed) = send(&intake, request).await;
            assert_eq!(status, 200, "{filed}");
            let token = filed[0]["token"].as_str().expect("token");
            let (status, found) =
                send(&intake, get(&format!("/open311/v2/tokens/{token}.json"))).await;
            assert_eq!(status, 200, "{found}");
        }

        // The portal: the home page's feed, a form refused with its photo kept, the corrected
        // form filed with the photo uploaded, tracking, the key by e-mail, statistics, the public
        // page.
        let web = lapor_web::router(
            lapor_web::Deps::new(
                lapor_intake::Deps::new(
                    &stores("web"),
                    today.clone(),
                    Deadlines::indonesia(),
                    pepper_for_evidence(),
                )
                .with_client_limit(lapor_intake::ClientLimit::per_hour(100))
                .with_files(files("web"), max),
                true,
            )
            .with_directory(stores("web").directory.clone())
            .with_mailer(Some(Arc::new(lapor_notifier::SesMailer::with_client(
                logs["web"].sesv2(&config),
                lapor_tests::verified_sender(&config).await,
            )))),
        );
        let page = |request: Request<Body>| {
            let web = web.clone();
            async move {
                let response = web.oneshot(request).await.expect("response");
                let status = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("body");
                (status, String::from_utf8_lossy(&bytes).into_owned())
            }
        };
        assert_eq!(page(get("/")).await.0, 200);
        let token = "0123456789abcdef0123456789abcdef";
        let form = |fields: &[(&str, &str)], file: bool| {
            let boundary = "calls-boundary";
            let mut body = Vec::new();
            for (name, value) in fields {
                body.extend_from_slice(
                    format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
                );
            }
            if file {
                body.extend_from_slice(
                    format!("--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(png);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            Request::post("/lapor")
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .header("cookie", format!("__Host-csrf={token}"))
                .body(Body::from(body))
                .expect("request")
        };
        let mut fields = vec![
            ("csrf", token),
            ("idempotency_key", "calls-web-1"),
            ("type", "pengaduan"),
            ("category", "infrastruktur"),
            ("region", "32.74"),
            (
                "description",
                "Lampu jalan di depan sekolah mati sejak seminggu, jalan gelap.",
            ),
            ("privacy", "publik"),
            ("email", "siti.aminah@example.id"),
        ];
        let (status, refused) = page(form(&fields, true)).await;
        assert_eq!(status, 422, "{refused}");
        let kept = refused
            .split("name=\"kept\" id=\"kept-0\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the photo is kept")
            .to_string();
        fields.push(("title", "Lampu jalan mati di depan sekolah"));
        fields.push(("kept", &kept));
        let (status, receipt) = page(form(&fields, false)).await;
        assert_eq!(status, 200, "{receipt}");
        // The portal sent the photo to the URL intake offered, signed with its own role.
        logs["web"].presigned("s3:PutObject", "/quarantine/");
        let shown = |id: &str| {
            receipt
                .split(&format!("id=\"{id}\">"))
                .nth(1)
                .and_then(|rest| rest.split('<').next())
                .expect("shown on the receipt")
                .to_string()
        };
        let (web_code, web_key) = (shown("tracking-code"), shown("access-key"));
        let urlencoded = |path: &str, fields: &[(&str, &str)]| {
            let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            Request::post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("__Host-csrf={token}"))
                .body(Body::from(body.join("&")))
                .expect("request")
        };
        let unlock = [
            ("csrf", token),
            ("tracking_code", web_code.as_str()),
            ("access_key", web_key.as_str()),
        ];
        assert_eq!(page(urlencoded("/lacak", &unlock)).await.0, 200);
        assert_eq!(page(urlencoded("/lapor/kunci", &unlock)).await.0, 200);
        assert_eq!(page(get("/statistik?region=32.74")).await.0, 200);
        assert_eq!(page(get(&format!("/laporan/{code}"))).await.0, 200);

        // The console: the officer routes in-process, with the web function's clients (and so
        // its role), on the report filed through the portal: the triage queue, a forward by the
        // central admin, the agency inbox, a follow-up, an attachment offered and uploaded, and
        // the agency view with the clean file's download.
        let console = lapor_officer::routes(
            lapor_officer::Deps::new(&stores("web"), today.clone(), Deadlines::indonesia())
                .with_files(files("web"), max),
        );
        for (request, agency, role) in [
            (get("/admin/triage"), "kemenpanrb", Role::AdminPusat),
            (
                post(
                    &format!("/reports/{web_code}/forward"),
                    json!({"agency": dpupr}),
                ),
                "kemenpanrb",
                Role::AdminPusat,
            ),
            (get("/agency/reports"), "kota-cirebon", Role::AgencyAdmin),
            (
                post(
                    &format!("/reports/{web_code}/followups"),
                    json!({"status": "diproses", "message": "Sedang ditinjau."}),
                ),
                dpupr,
                Role::Officer,
            ),
        ] {
            let (status, answer) = send(&console, as_officer(request, agency, role)).await;
            assert_eq!(status, 200, "console: {answer}");
        }
        let asked = json!({"filename": "b.png", "content_type": "image/png", "size": png.len()});
        let (status, offer) = send(
            &console,
            as_officer(
                post(&format!("/agency/reports/{web_code}/attachments"), asked),
                dpupr,
                Role::Officer,
            ),
        )
        .await;
        assert_eq!(status, 201, "console: {offer}");
        let url = offer["upload"]["url"].as_str().expect("url");
        let put = reqwest::Client::new()
            .put(url)
            .header("content-type", "image/png")
            .body(png.to_vec())
            .send()
            .await
            .expect("upload");
        assert!(put.status().is_success(), "{}", put.status());
        logs["web"].presigned("s3:PutObject", url);
        let id = offer["id"].as_str().expect("id");
        let handled = lapor_evidence_function::handle_upload(
            &evidence,
            &format!("quarantine/{web_code}/{id}"),
            chrono::Utc::now(),
        )
        .await
        .expect("evidence");
        assert!(
            matches!(handled, lapor_evidence_function::Handled::Ready { .. }),
            "{handled:?}"
        );
        let (status, view) = send(
            &console,
            as_officer(
                get(&format!("/agency/reports/{web_code}")),
                dpupr,
                Role::Officer,
            ),
        )
        .await;
        assert_eq!(status, 200, "console: {view}");
        let url = view["attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|a| a["download_url"].as_str())
            .expect("download url");
        let got = reqwest::get(url).await.expect("download");
        assert!(got.status().is_success(), "{}", got.status());
        logs["web"].presigned("s3:GetObject", url);
        assert!(
            logs["web"]
                .calls()
                .contains(&("dynamodb:Query".to_string(), "index/inbox".to_string())),
            "the console's queues were read with the web function's clients"
        );

        let mut problems = Vec::new();
        for (name, log) in &logs {
            let recorded: Calls = log.calls();
            assert!(!recorded.is_empty(), "{name} made no call");
            let allowed = super::calls(name);
            for call in recorded.difference(&allowed) {
                problems.push(format!(
                    "{name} calls {call:?}, which its role does not grant"
                ));
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

/// What `infra/sam-local-env.json` may set, and what the template declares: SAM ignores, without
/// a word, an env-vars entry for a variable the template does not declare, so every name in the
/// file must be declared in the Globals or by a function.
fn sam_local_problems(template: &Value, env_file: &Value) -> Vec<String> {
    let mut declared = BTreeSet::new();
    let variables = |v: Option<&Value>| -> Vec<String> {
        v.and_then(|v| v.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
            .map(|m| {
                m.keys()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    declared.extend(variables(
        template.get("Globals").and_then(|g| g.get("Function")),
    ));
    for function in functions(template) {
        declared.extend(variables(
            template
                .get("Resources")
                .and_then(|r| r.get(function.logical_id.as_str()))
                .and_then(|r| r.get("Properties")),
        ));
    }
    let mut problems = Vec::new();
    let params = env_file
        .get("Parameters")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default();
    for name in params.keys().filter_map(Value::as_str) {
        if !declared.contains(name) {
            problems.push(format!(
                "{name} is not declared by the template: sam local ignores it"
            ));
        }
    }
    // In AWS the SDK must use its own endpoints: the local override stays empty when deployed.
    let deployed = str_at(
        template,
        &[
            "Globals",
            "Function",
            "Environment",
            "Variables",
            "LAPOR_LOCAL_ENDPOINT",
        ],
    );
    if deployed != Some("") {
        problems.push(format!(
            "LAPOR_LOCAL_ENDPOINT must be declared empty in the Globals, found {deployed:?}"
        ));
    }
    problems
}

fn sam_local_env() -> Value {
    let path = root().join("infra/sam-local-env.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_sam_local_env_file_sets_only_declared_variables_and_aws_keeps_its_endpoints() {
    let problems = sam_local_problems(&template(), &sam_local_env());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn an_undeclared_sam_local_variable_or_a_deployed_endpoint_is_caught() {
    let mut env_file = sam_local_env();
    env_file["Parameters"]["AWS_ENDPOINT_URL"] = Value::String("http://127.0.0.1:5000".into());
    let problems = sam_local_problems(&template(), &env_file);
    assert!(
        problems.iter().any(|p| p.starts_with("AWS_ENDPOINT_URL")),
        "{problems:#?}"
    );

    let mut template = template();
    template["Globals"]["Function"]["Environment"]["Variables"]["LAPOR_LOCAL_ENDPOINT"] =
        Value::String("http://127.0.0.1:5000".into());
    let problems = sam_local_problems(&template, &sam_local_env());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("must be declared empty")),
        "{problems:#?}"
    );
}

/// Officer accounts and the stack's own exposure (issue 15, part 7): what the template must keep.
fn hardening_problems(template: &Value) -> Vec<String> {
    let resources = template.get("Resources").cloned().unwrap_or(Value::Null);
    let props = |id: &str| resources.get(id).and_then(|r| r.get("Properties")).cloned();
    let mut problems = Vec::new();

    let pool = props("OfficerPool").unwrap_or(Value::Null);
    if pool.get("MfaConfiguration").and_then(Value::as_str) != Some("ON") {
        problems.push("officer MFA must be required (MfaConfiguration: ON)".into());
    }
    if !strings(pool.get("EnabledMfas")).contains(&"SOFTWARE_TOKEN_MFA".to_string()) {
        problems.push("officer MFA must offer TOTP (SOFTWARE_TOKEN_MFA)".into());
    }

    let cors_default = str_at(template, &["Parameters", "CorsAllowedOrigins", "Default"]);
    if cors_default != Some("") {
        problems.push(format!(
            "CORS must default to no other origin, found {cors_default:?}"
        ));
    }
    let origins = props("HttpApi")
        .and_then(|p| p.get("CorsConfiguration").cloned())
        .and_then(|c| c.get("AllowOrigins").cloned());
    let conditional = origins
        .as_ref()
        .and_then(|o| o.get("Fn::If").or_else(|| o.get("!If")))
        .is_some()
        || matches!(&origins, Some(Value::Tagged(tagged)) if tagged.tag == "If");
    if origins.is_some() && !conditional {
        problems.push("AllowOrigins must be absent unless origins are configured".into());
    }

    let topic = props("InboundSmsTopic").unwrap_or(Value::Null);
    let key_id = match topic.get("KmsMasterKeyId") {
        Some(Value::Tagged(tagged)) if tagged.tag == "Ref" => {
            tagged.value.as_str().map(String::from)
        }
        Some(v) => v.get("Ref").and_then(Value::as_str).map(String::from),
        None => None,
    };
    match key_id.as_deref().and_then(|id| resources.get(id)) {
        Some(key) if key.get("Type").and_then(Value::as_str) == Some("AWS::KMS::Key") => {
            let statements = key
                .get("Properties")
                .and_then(|p| p.get("KeyPolicy"))
                .and_then(|p| p.get("Statement"))
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default();
            let sms_may_encrypt = statements.iter().any(|s| {
                str_at(s, &["Principal", "Service"]) == Some("sms-voice.amazonaws.com")
                    && strings(s.get("Action"))
                        .iter()
                        .any(|a| a.starts_with("kms:GenerateDataKey"))
            });
            if !sms_may_encrypt {
                problems
                    .push("the inbound SMS key must let sms-voice.amazonaws.com encrypt".into());
            }
        }
        _ => problems.push("the inbound SMS topic must use a customer-managed KMS key".into()),
    }

    for (id, resource) in resources.as_mapping().into_iter().flatten() {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::SQS::Queue") {
            continue;
        }
        let id = id.as_str().unwrap_or("?");
        let p = resource.get("Properties").cloned().unwrap_or(Value::Null);
        let encrypted = p.get("SqsManagedSseEnabled").and_then(Value::as_bool) == Some(true)
            || p.get("KmsMasterKeyId").is_some();
        if !encrypted {
            problems.push(format!("{id} must be encrypted"));
        }
    }
    // Issue 15, part 3: no secret in any function's configuration; the pepper is read from Secrets Manager at run time.
    for (id, resource) in resources.as_mapping().into_iter().flatten() {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = id.as_str().unwrap_or("?");
        let variables = resource
            .get("Properties")
            .and_then(|p| p.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        for (name, value) in &variables {
            let name = name.as_str().unwrap_or("?");
            let text = format!("{value:?}");
            if name == "ACCESS_KEY_PEPPER"
                || text.contains("resolve:secretsmanager")
                || text.contains("resolve:ssm-secure")
            {
                problems.push(format!(
                    "{id}: {name} puts a secret in the function configuration"
                ));
            }
        }
        let binary = str_at(resource, &["Metadata", "BuildProperties", "Binary"]).unwrap_or("");
        if matches!(binary, "intake" | "notify" | "sms") {
            let names_secret = matches!(variables.get("ACCESS_KEY_PEPPER_SECRET"),
                Some(Value::Tagged(t)) if t.tag == "Ref" && t.value.as_str() == Some("AccessKeyPepper"));
            if !names_secret {
                problems.push(format!(
                    "{id}: ACCESS_KEY_PEPPER_SECRET must be !Ref AccessKeyPepper"
                ));
            }
        }
    }

    // Part 1: the per-client write limit is on by default, and intake may update counters only.
    let writes_default = template
        .get("Parameters")
        .and_then(|p| p.get("ClientWritesPerHour"))
        .and_then(|p| p.get("Default"))
        .and_then(Value::as_u64);
    if writes_default.is_none_or(|n| n == 0) {
        problems.push(format!(
            "ClientWritesPerHour must default to a limit, found {writes_default:?}"
        ));
    }
    let intake_env = props("IntakeFunction")
        .and_then(|p| {
            p.get("Environment")
                .and_then(|e| e.get("Variables"))
                .cloned()
        })
        .and_then(|v| v.get("CLIENT_WRITES_PER_HOUR").cloned());
    if !matches!(&intake_env, Some(Value::Tagged(t)) if t.tag == "Ref" && t.value.as_str() == Some("ClientWritesPerHour"))
    {
        problems
            .push("IntakeFunction must get CLIENT_WRITES_PER_HOUR from ClientWritesPerHour".into());
    }
    let intake_updates: Vec<Value> = role_statements(template, "IntakeRole")
        .0
        .into_iter()
        .filter(|s| {
            strings(s.get("Action"))
                .iter()
                .any(|a| a == "dynamodb:UpdateItem")
        })
        .collect();
    for statement in &intake_updates {
        let leading = statement
            .get("Condition")
            .and_then(|c| c.get("ForAllValues:StringLike"))
            .map(|c| strings(c.get("dynamodb:LeadingKeys")));
        if leading != Some(vec!["COUNT#*".to_string()]) {
            problems.push(format!(
                "IntakeRole may UpdateItem beyond the COUNT# counters: {statement:?}"
            ));
        }
    }
    if intake_updates.is_empty() {
        problems.push("IntakeRole must be able to update its counters".into());
    }

    // Issue 16: the evidence bucket.
    let bucket = resources
        .get("EvidenceBucket")
        .cloned()
        .unwrap_or(Value::Null);
    if bucket.get("DeletionPolicy").and_then(Value::as_str) != Some("Retain") {
        problems.push("EvidenceBucket must be retained when the stack is deleted".into());
    }
    let bucket = bucket.get("Properties").cloned().unwrap_or(Value::Null);
    let block = bucket.get("PublicAccessBlockConfiguration");
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        if block.and_then(|b| b.get(flag)).and_then(Value::as_bool) != Some(true) {
            problems.push(format!("EvidenceBucket public access: {flag} must be true"));
        }
    }
    if bucket.get("BucketEncryption").is_none() {
        problems.push("EvidenceBucket must be encrypted".into());
    }
    let quarantine_days = bucket
        .get("LifecycleConfiguration")
        .and_then(|l| l.get("Rules"))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .find(|r| r.get("Prefix").and_then(Value::as_str) == Some("quarantine/"))
        .and_then(|r| r.get("ExpirationInDays"))
        .and_then(Value::as_u64);
    if quarantine_days.is_none_or(|d| d > 1) {
        problems.push(format!(
            "EvidenceBucket lifecycle: quarantine/ kept at most 1 day, found {quarantine_days:?}"
        ));
    }
    let cors = bucket.get("CorsConfiguration");
    let cors_conditional = matches!(cors, Some(Value::Tagged(t)) if t.tag == "If");
    if cors.is_some() && !cors_conditional {
        problems.push("EvidenceBucket CORS must exist only for WebOrigin".into());
    }

    let sms_dlq_retention = props("SmsDeadLetterQueue")
        .and_then(|p| p.get("MessageRetentionPeriod").and_then(Value::as_u64));
    if sms_dlq_retention.is_none_or(|secs| secs > 4 * 24 * 60 * 60) {
        problems.push(format!(
            "SmsDeadLetterQueue holds numbers and texts: keep them 4 days at most, found {sms_dlq_retention:?}"
        ));
    }

    problems.extend(mail_problems(template));
    problems
}

fn is_ref_to(v: Option<&Value>, name: &str) -> bool {
    matches!(v, Some(Value::Tagged(t)) if t.tag == "Ref" && t.value.as_str() == Some(name))
}

/// Issue 17: e-mail through SES. Sending is on only with `MailFrom`, from its own identity, and
/// only with it as the From address; notify knows the address from `MAIL_FROM`.
fn mail_problems(template: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let resources = template.get("Resources").cloned().unwrap_or(Value::Null);
    let identity = resources
        .get("MailFromIdentity")
        .cloned()
        .unwrap_or(Value::Null);
    if identity.get("Type").and_then(Value::as_str) != Some("AWS::SES::EmailIdentity")
        || identity.get("Condition").and_then(Value::as_str) != Some("SendsMail")
        || !is_ref_to(
            identity
                .get("Properties")
                .and_then(|p| p.get("EmailIdentity")),
            "MailFrom",
        )
    {
        problems.push(
            "MailFromIdentity must be the SES identity of MailFrom, made only when SendsMail"
                .into(),
        );
    }
    for (id, resource) in resources.as_mapping().into_iter().flatten() {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::IAM::Role") {
            continue;
        }
        let id = id.as_str().unwrap_or("?");
        let statements = resource
            .get("Properties")
            .and_then(|p| p.get("Policies"))
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                p.get("PolicyDocument")
                    .and_then(|d| d.get("Statement"))
                    .and_then(Value::as_sequence)
            })
            .flatten();
        for statement in statements {
            let conditional = matches!(statement, Value::Tagged(t) if t.tag == "If"
                && t.value.get(0).and_then(Value::as_str) == Some("SendsMail"));
            let Some(granted) = when_granted(statement) else {
                continue;
            };
            if !strings(granted.get("Action"))
                .iter()
                .any(|a| a.starts_with("ses:"))
            {
                continue;
            }
            if !conditional {
                problems.push(format!(
                    "{id}: an SES grant must exist only when SendsMail (MailFrom set)"
                ));
            }
            let from = granted
                .get("Condition")
                .and_then(|c| c.get("StringEquals"))
                .and_then(|c| c.get("ses:FromAddress"));
            if !is_ref_to(from, "MailFrom") {
                problems.push(format!(
                    "{id}: SES sending must be limited to ses:FromAddress = MailFrom"
                ));
            }
        }
    }
    let notify_from = resources
        .get("NotifyFunction")
        .and_then(|f| f.get("Properties"))
        .and_then(|p| p.get("Environment"))
        .and_then(|e| e.get("Variables"))
        .and_then(|v| v.get("MAIL_FROM"));
    if !is_ref_to(notify_from, "MailFrom") {
        problems.push("NotifyFunction must get MAIL_FROM from MailFrom".into());
    }
    problems
}

#[test]
fn officer_mfa_no_default_cors_an_own_key_for_inbound_sms_and_short_lived_encrypted_dead_letters() {
    let problems = hardening_problems(&template());
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A named change that weakens the template.
/// The change's name, a word the problem it causes must contain, and the change.
type Weakening = (&'static str, &'static str, fn(&mut Value));

#[test]
fn weakening_any_of_them_is_caught() {
    let weakened: [Weakening; 15] = [
        ("MfaConfiguration", "MFA", |t| {
            t["Resources"]["OfficerPool"]["Properties"]["MfaConfiguration"] = "OPTIONAL".into()
        }),
        ("CORS", "CORS", |t| {
            t["Parameters"]["CorsAllowedOrigins"]["Default"] = "*".into()
        }),
        ("KMS", "KMS", |t| {
            t["Resources"]["InboundSmsTopic"]["Properties"]
                .as_mapping_mut()
                .map(|m| m.remove("KmsMasterKeyId"));
        }),
        ("SmsDeadLetterQueue", "SmsDeadLetterQueue", |t| {
            t["Resources"]["SmsDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] =
                1_209_600.into()
        }),
        ("pepper in the configuration", "puts a secret", |t| {
            t["Resources"]["SmsFunction"]["Properties"]["Environment"]["Variables"]
                ["ACCESS_KEY_PEPPER"] =
                "{{resolve:secretsmanager:lapor-pepper:SecretString}}".into()
        }),
        ("no pepper secret", "ACCESS_KEY_PEPPER_SECRET", |t| {
            t["Resources"]["NotifyFunction"]["Properties"]["Environment"]["Variables"]
                .as_mapping_mut()
                .map(|m| m.remove("ACCESS_KEY_PEPPER_SECRET"));
        }),
        ("public evidence", "RestrictPublicBuckets", |t| {
            t["Resources"]["EvidenceBucket"]["Properties"]["PublicAccessBlockConfiguration"]
                ["RestrictPublicBuckets"] = false.into()
        }),
        ("quarantine kept", "lifecycle", |t| {
            let text = serde_yaml_ng::to_string(&*t).expect("yaml");
            let kept = text.replacen("ExpirationInDays: 1", "ExpirationInDays: 30", 1);
            *t = serde_yaml_ng::from_str(&kept).expect("yaml");
        }),
        ("evidence bucket dropped with the stack", "retained", |t| {
            t["Resources"]["EvidenceBucket"]["DeletionPolicy"] = "Delete".into()
        }),
        ("client limit off", "ClientWritesPerHour", |t| {
            t["Parameters"]["ClientWritesPerHour"]["Default"] = 0.into()
        }),
        ("intake updates anything", "beyond the COUNT#", |t| {
            let text = serde_yaml_ng::to_string(&*t).expect("yaml");
            let widened = text.replacen("ForAllValues:StringLike", "ForAnyValue:StringLike", 1);
            *t = serde_yaml_ng::from_str(&widened).expect("yaml");
        }),
        ("mail from any address", "ses:FromAddress", |t| {
            let text = serde_yaml_ng::to_string(&*t).expect("yaml");
            let widened = text.replacen("ses:FromAddress:", "ses:FromDisplayName:", 1);
            *t = serde_yaml_ng::from_str(&widened).expect("yaml");
        }),
        ("mail grant without MailFrom", "only when SendsMail", |t| {
            let text = serde_yaml_ng::to_string(&*t).expect("yaml");
            let widened = text.replacen("- SendsMail\n", "- HasAlarmEmail\n", 1);
            assert_ne!(text, widened, "the grant names its condition");
            *t = serde_yaml_ng::from_str(&widened).expect("yaml");
        }),
        ("an identity for another address", "MailFromIdentity", |t| {
            t["Resources"]["MailFromIdentity"]["Properties"]["EmailIdentity"] =
                "lapor.example.go.id".into()
        }),
        ("notify without its sender", "MAIL_FROM", |t| {
            t["Resources"]["NotifyFunction"]["Properties"]["Environment"]["Variables"]
                .as_mapping_mut()
                .map(|m| m.remove("MAIL_FROM"));
        }),
    ];
    for (what, needle, weaken) in weakened {
        let mut t = template();
        weaken(&mut t);
        let problems = hardening_problems(&t);
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "{what}: weakening went unnoticed: {problems:#?}"
        );
    }
}

/// The URLs the console client may send officers back to: the HttpApi's own, over HTTPS.
const CONSOLE_CALLBACK: &str =
    "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/console/callback";
const CONSOLE_SIGN_OUT: &str =
    "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/console/masuk?keluar=1";

fn is_sub(v: Option<&Value>, text: &str) -> bool {
    matches!(v, Some(Value::Tagged(t)) if t.tag == "Sub" && t.value.as_str() == Some(text))
}

/// Whether `v` refers to the resource `id` anywhere: `!Ref`, `!GetAtt`, or `${id}` in `!Sub`, in
/// short or long form.
fn names(v: &Value, id: &str) -> bool {
    let named = |s: &str| s == id || s.starts_with(&format!("{id}."));
    let in_sub = |v: &Value| {
        let text = v
            .as_str()
            .or_else(|| v.get(0).and_then(Value::as_str))
            .unwrap_or_default();
        text.contains(&format!("${{{id}}}")) || text.contains(&format!("${{{id}."))
    };
    let in_get_att = |v: &Value| match v {
        Value::String(s) => named(s),
        Value::Sequence(items) => items.first().and_then(Value::as_str) == Some(id),
        _ => false,
    };
    match v {
        Value::Tagged(t) => {
            (t.tag == "Ref" && t.value.as_str().is_some_and(named))
                || (t.tag == "GetAtt" && in_get_att(&t.value))
                || (t.tag == "Sub" && in_sub(&t.value))
                || names(&t.value, id)
        }
        Value::Sequence(items) => items.iter().any(|i| names(i, id)),
        Value::Mapping(m) => m.iter().any(|(k, v)| {
            match k.as_str() {
                Some("Ref") => v.as_str().is_some_and(named),
                Some("Fn::GetAtt") => in_get_att(v),
                Some("Fn::Sub") => in_sub(v),
                _ => false,
            }
        } || names(v, id)),
        _ => false,
    }
}

/// The officer console's sign-in (issue: the console): the pool's managed login, the
/// authorization-code flow only, a confidential client that sends officers back only to the
/// console on the HttpApi over HTTPS, required MFA, and a web function that finds its secret by
/// name and may read that secret alone besides the pepper.
fn console_problems(template: &Value) -> Vec<String> {
    let resources = template.get("Resources").cloned().unwrap_or(Value::Null);
    let resource = |id: &str| resources.get(id).cloned().unwrap_or(Value::Null);
    let props = |id: &str| {
        resource(id)
            .get("Properties")
            .cloned()
            .unwrap_or(Value::Null)
    };
    let kind = |id: &str| {
        resource(id)
            .get("Type")
            .and_then(Value::as_str)
            .map(String::from)
    };
    let mut problems = Vec::new();

    let pool = props("OfficerPool");
    if pool.get("MfaConfiguration").and_then(Value::as_str) != Some("ON") {
        problems.push("officer MFA must be required (MfaConfiguration: ON)".into());
    }
    if !strings(pool.get("EnabledMfas")).contains(&"SOFTWARE_TOKEN_MFA".to_string()) {
        problems.push("officer MFA must offer TOTP (SOFTWARE_TOKEN_MFA)".into());
    }
    if !matches!(
        pool.get("UserPoolTier").and_then(Value::as_str),
        Some("ESSENTIALS" | "PLUS")
    ) {
        problems.push("managed login needs the pool on ESSENTIALS or PLUS (UserPoolTier)".into());
    }

    let domain = props("OfficerPoolDomain");
    if kind("OfficerPoolDomain").as_deref() != Some("AWS::Cognito::UserPoolDomain")
        || !is_ref_to(domain.get("UserPoolId"), "OfficerPool")
    {
        problems.push("OfficerPoolDomain must be the officer pool's Cognito domain".into());
    }
    if domain.get("ManagedLoginVersion").and_then(Value::as_u64) != Some(2) {
        problems.push("OfficerPoolDomain must serve managed login (ManagedLoginVersion: 2)".into());
    }
    let branded = resources
        .as_mapping()
        .into_iter()
        .flatten()
        .map(|(_, r)| r)
        .any(|r| {
            r.get("Type").and_then(Value::as_str) == Some("AWS::Cognito::ManagedLoginBranding")
                && is_ref_to(
                    r.get("Properties").and_then(|p| p.get("ClientId")),
                    "ConsoleClient",
                )
                && is_ref_to(
                    r.get("Properties").and_then(|p| p.get("UserPoolId")),
                    "OfficerPool",
                )
        });
    if !branded {
        problems.push("ConsoleClient needs a managed login branding style".into());
    }

    let client = props("ConsoleClient");
    let flag = |name: &str| client.get(name).and_then(Value::as_bool) == Some(true);
    if kind("ConsoleClient").as_deref() != Some("AWS::Cognito::UserPoolClient")
        || !is_ref_to(client.get("UserPoolId"), "OfficerPool")
    {
        problems.push("ConsoleClient must be an app client of the officer pool".into());
    }
    if !flag("GenerateSecret") {
        problems.push("the console client must be confidential (GenerateSecret: true)".into());
    }
    if !flag("AllowedOAuthFlowsUserPoolClient")
        || strings(client.get("AllowedOAuthFlows")) != ["code"]
    {
        problems.push(format!(
            "the console client must use the code flow only, found {:?}",
            strings(client.get("AllowedOAuthFlows"))
        ));
    }
    let scopes = strings(client.get("AllowedOAuthScopes"));
    if !scopes.contains(&"openid".to_string())
        || scopes
            .iter()
            .any(|s| !matches!(s.as_str(), "openid" | "email" | "profile"))
    {
        problems.push(format!(
            "the console client's scopes must be openid, email, profile, found {scopes:?}"
        ));
    }
    if strings(client.get("SupportedIdentityProviders")) != ["COGNITO"] {
        problems.push("the console client signs in with the pool itself (COGNITO) only".into());
    }
    let exactly = |name: &str, url: &str| {
        client
            .get(name)
            .and_then(Value::as_sequence)
            .is_some_and(|urls| urls.len() == 1 && is_sub(urls.first(), url))
    };
    if !exactly("CallbackURLs", CONSOLE_CALLBACK) {
        problems.push(format!(
            "the console client's callback must be exactly {CONSOLE_CALLBACK}, found {:?}",
            client.get("CallbackURLs")
        ));
    }
    if !exactly("LogoutURLs", CONSOLE_SIGN_OUT) {
        problems.push(format!(
            "the console client's sign-out URL must be exactly {CONSOLE_SIGN_OUT}, found {:?}",
            client.get("LogoutURLs")
        ));
    }
    if !flag("EnableTokenRevocation") {
        problems.push("the console client must allow token revocation (sign-out)".into());
    }
    if client
        .get("PreventUserExistenceErrors")
        .and_then(Value::as_str)
        != Some("ENABLED")
    {
        problems.push("the console client must not reveal which users exist".into());
    }
    if strings(client.get("ExplicitAuthFlows")) != ["ALLOW_REFRESH_TOKEN_AUTH"] {
        problems.push(format!(
            "the console client signs in through managed login only (ExplicitAuthFlows: [ALLOW_REFRESH_TOKEN_AUTH]), found {:?}",
            strings(client.get("ExplicitAuthFlows"))
        ));
    }
    let writable = strings(client.get("WriteAttributes"));
    if writable.iter().any(|a| a.starts_with("custom:")) {
        problems.push(format!(
            "officers must not change their own agency or role (WriteAttributes {writable:?})"
        ));
    }

    let secret = props("ConsoleSignIn");
    let secret_string = secret.get("SecretString").cloned().unwrap_or(Value::Null);
    if kind("ConsoleSignIn").as_deref() != Some("AWS::SecretsManager::Secret")
        || !is_sub(secret.get("Name"), CONSOLE_SIGN_IN_NAME)
        || !names(&secret_string, "ConsoleClient")
    {
        problems.push(format!(
            "ConsoleSignIn must hold the console client's id and secret under the name {CONSOLE_SIGN_IN_NAME}"
        ));
    }

    let web = resource("WebFunction");
    let variables = web
        .get("Properties")
        .and_then(|p| p.get("Environment"))
        .and_then(|e| e.get("Variables"))
        .cloned()
        .unwrap_or(Value::Null);
    if !is_sub(
        variables.get("CONSOLE_SIGN_IN_SECRET"),
        CONSOLE_SIGN_IN_NAME,
    ) {
        problems.push(format!(
            "WebFunction must find the console secret by name (CONSOLE_SIGN_IN_SECRET: !Sub {CONSOLE_SIGN_IN_NAME}), found {:?}",
            variables.get("CONSOLE_SIGN_IN_SECRET")
        ));
    }
    if !is_sub(
        variables.get("CONSOLE_ISSUER"),
        "https://cognito-idp.${AWS::Region}.amazonaws.com/${OfficerPool}",
    ) {
        problems.push(
            "WebFunction must check ID tokens against the officer pool (CONSOLE_ISSUER)".into(),
        );
    }
    if !is_sub(
        variables.get("CONSOLE_AUTH_DOMAIN"),
        "https://${OfficerPoolDomain}.auth.${AWS::Region}.amazoncognito.com",
    ) {
        problems.push("WebFunction must sign in on OfficerPoolDomain (CONSOLE_AUTH_DOMAIN)".into());
    }
    for holder in ["WebFunction", "WebRole"] {
        for id in ["ConsoleClient", "ConsoleSignIn", "ConsoleLoginBranding"] {
            if names(&resource(holder), id) {
                problems.push(format!(
                    "{holder} names {id}: a circular dependency (the console client's callback names the HttpApi, whose routes name WebFunction)"
                ));
            }
        }
    }

    let mut reads_console_secret = false;
    for statement in role_statements(template, "WebRole").0 {
        if !strings(statement.get("Action"))
            .iter()
            .any(|a| a.starts_with("secretsmanager:"))
        {
            continue;
        }
        if statement.get("NotResource").is_some() {
            problems.push(
                "WebRole may read only the pepper and the console secret, found a NotResource"
                    .into(),
            );
        }
        for r in resource_list(statement.get("Resource")) {
            if is_sub(Some(&r), CONSOLE_SIGN_IN_ARN) {
                reads_console_secret = true;
            } else if !is_ref_to(Some(&r), "AccessKeyPepper") {
                problems.push(format!(
                    "WebRole may read only the pepper and the console secret, found {r:?}"
                ));
            }
        }
    }
    if !reads_console_secret {
        problems.push(format!(
            "WebRole must read the console secret ({CONSOLE_SIGN_IN_ARN})"
        ));
    }

    let events = web
        .get("Properties")
        .and_then(|p| p.get("Events"))
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default();
    let mut routes = BTreeSet::new();
    for event in events.values() {
        let (Some(method), Some(path)) = (
            str_at(event, &["Properties", "Method"]),
            str_at(event, &["Properties", "Path"]),
        ) else {
            continue;
        };
        if path != "/console" && !path.starts_with("/console/") {
            continue;
        }
        routes.insert(format!("{method} {path}"));
        if event
            .get("Properties")
            .and_then(|p| p.get("Auth"))
            .is_some()
        {
            problems.push(format!(
                "{method} {path}: the console's pages take no JWT authorizer (a browser sends no bearer token)"
            ));
        }
    }
    for route in ["GET /console", "ANY /console/{proxy+}"] {
        if !routes.contains(route) {
            problems.push(format!("WebFunction must serve {route}"));
        }
    }
    problems
}

#[test]
fn the_console_signs_in_with_the_code_flow_a_confidential_client_and_required_mfa() {
    let problems = console_problems(&template());
    assert!(problems.is_empty(), "{problems:#?}");
}

fn tagged(tag: &str, value: &str) -> Value {
    Value::Tagged(Box::new(serde_yaml_ng::value::TaggedValue {
        tag: serde_yaml_ng::value::Tag::new(tag),
        value: value.into(),
    }))
}

fn push(v: &mut Value, item: Value) {
    if let Some(items) = v.as_sequence_mut() {
        items.push(item);
    }
}

#[test]
fn weakening_the_console_sign_in_is_caught() {
    let weakened: [Weakening; 16] = [
        ("implicit flow added", "code flow only", |t| {
            push(
                &mut t["Resources"]["ConsoleClient"]["Properties"]["AllowedOAuthFlows"],
                "implicit".into(),
            )
        }),
        ("MFA optional", "MFA", |t| {
            t["Resources"]["OfficerPool"]["Properties"]["MfaConfiguration"] = "OPTIONAL".into()
        }),
        ("the Lite tier", "UserPoolTier", |t| {
            t["Resources"]["OfficerPool"]["Properties"]["UserPoolTier"] = "LITE".into()
        }),
        ("a public client", "GenerateSecret", |t| {
            t["Resources"]["ConsoleClient"]["Properties"]["GenerateSecret"] = false.into()
        }),
        ("callback on http://", "callback", |t| {
            t["Resources"]["ConsoleClient"]["Properties"]["CallbackURLs"][0] =
                tagged("Sub", &CONSOLE_CALLBACK.replacen("https://", "http://", 1))
        }),
        ("a second callback elsewhere", "callback", |t| {
            push(
                &mut t["Resources"]["ConsoleClient"]["Properties"]["CallbackURLs"],
                "https://lapor.example.com/console/callback".into(),
            )
        }),
        ("sign-out to anywhere", "sign-out", |t| {
            t["Resources"]["ConsoleClient"]["Properties"]["LogoutURLs"][0] =
                "https://lapor.example.com/".into()
        }),
        ("no revocation", "revocation", |t| {
            t["Resources"]["ConsoleClient"]["Properties"]["EnableTokenRevocation"] = false.into()
        }),
        (
            "password sign-in on the console client",
            "ExplicitAuthFlows",
            |t| {
                push(
                    &mut t["Resources"]["ConsoleClient"]["Properties"]["ExplicitAuthFlows"],
                    "ALLOW_USER_PASSWORD_AUTH".into(),
                )
            },
        ),
        ("the user-pool admin scope", "scopes", |t| {
            push(
                &mut t["Resources"]["ConsoleClient"]["Properties"]["AllowedOAuthScopes"],
                "aws.cognito.signin.user.admin".into(),
            )
        }),
        ("officers set their own role", "WriteAttributes", |t| {
            push(
                &mut t["Resources"]["ConsoleClient"]["Properties"]["WriteAttributes"],
                "custom:role".into(),
            )
        }),
        ("the classic hosted UI", "ManagedLoginVersion", |t| {
            t["Resources"]["OfficerPoolDomain"]["Properties"]["ManagedLoginVersion"] = 1.into()
        }),
        ("a wildcard secret ARN", "may read only", |t| {
            let text = serde_yaml_ng::to_string(&*t).expect("yaml");
            let widened = text.replacen("console-sign-in-??????", "*", 1);
            assert_ne!(text, widened, "the web role names the console secret");
            *t = serde_yaml_ng::from_str(&widened).expect("yaml");
        }),
        ("the secret by reference", "by name", |t| {
            t["Resources"]["WebFunction"]["Properties"]["Environment"]["Variables"]
                ["CONSOLE_SIGN_IN_SECRET"] = tagged("Ref", "ConsoleSignIn")
        }),
        ("the client id in the environment", "circular", |t| {
            t["Resources"]["WebFunction"]["Properties"]["Environment"]["Variables"]
                ["CONSOLE_CLIENT_ID"] = tagged("Ref", "ConsoleClient")
        }),
        ("the console behind the JWT authorizer", "authorizer", |t| {
            t["Resources"]["WebFunction"]["Properties"]["Events"]["ConsolePages"]["Properties"]
                ["Auth"] = serde_yaml_ng::from_str("Authorizer: OfficerJwt").expect("yaml")
        }),
    ];
    for (what, needle, weaken) in weakened {
        let mut t = template();
        weaken(&mut t);
        let problems = console_problems(&t);
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "{what}: weakening went unnoticed: {problems:#?}"
        );
    }
}

#[test]
fn a_wildcard_console_secret_grant_is_caught_by_the_role_check_too() {
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("template");
    let widened = text.replacen("console-sign-in-??????", "*", 1);
    assert_ne!(widened, text, "the web role names the console secret");
    let problems = iam_problems(&serde_yaml_ng::from_str(&widened).expect("yaml"));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("WebFunction") && p.contains("wildcard")),
        "{problems:#?}"
    );
}
