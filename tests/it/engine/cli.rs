//! The headless commands through the real binary (in-process, no daemon), on a store the
//! engine filled: the documented JSON fields — ids, statuses, flow states, reasons, deadlines —
//! and the resync / approve / settings round trip, with roles from `[access]`.

use orderdeck::domain::settings::LinkSettings;
use orderdeck::sandbox::faults::FaultKind;
use orderdeck::service::identity::Account;
use serde_json::Value;

use crate::engine::support::*;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_commands_show_ids_states_reasons_and_deadlines() {
    let mut rig = Rig::start().await;
    let imported = rig.paid_order(GB);
    let mut spec = rig.new_order(GB);
    set_lines(&mut spec, &[GHOST_SKU]);
    let stuck = rig.add(&spec);
    rig.sync().await;
    let deadline = now() + 10 * 3600;
    let cancel_id = rig
        .set
        .tiktok
        .request_buyer_cancel(imported.as_str(), "reason", "Wrong size", deadline)
        .unwrap();
    rig.sync().await;
    let store_name = rig.store_order(GB, &imported).name;
    rig.close();
    let config = rig.config_path.clone();
    let reason = format!("SKU {GHOST_SKU} has no variant in store {}", rig.store(GB));

    let rows = json(
        &rig.cli_ok(&config, &["orders", "--view", "stuck", "--json"])
            .await,
    );
    let rows = rows.as_array().expect("a JSON array of rows");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["id"], stuck.as_str());
    assert_eq!(rows[0]["link"], rig.link(GB).as_str());
    assert_eq!(rows[0]["tiktok_status"], "AWAITING_SHIPMENT");
    assert_eq!(rows[0]["flows"][0], "stuck");
    assert_eq!(rows[0]["why"], format!("import: {reason}"));
    assert_eq!(rows[0]["store_order"], Value::Null);

    let detail = json(
        &rig.cli_ok(&config, &["order", stuck.as_str(), "--json"])
            .await,
    );
    assert_eq!(detail["order"]["id"], stuck.as_str());
    let import = &detail["order"]["flows"]["import"]["status"];
    assert_eq!(import["state"], "stuck", "{import}");
    assert_eq!(import["reason"], reason.as_str());
    assert!(
        detail["diagnosis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|line| line.as_str().unwrap().contains(&reason)),
        "{}",
        detail["diagnosis"]
    );

    let detail = json(
        &rig.cli_ok(&config, &["order", imported.as_str(), "--json"])
            .await,
    );
    assert_eq!(
        detail["order"]["flows"]["import"]["status"]["state"],
        "done"
    );
    assert_eq!(detail["order"]["store"]["name"], store_name.as_str());
    assert_eq!(detail["order"]["tiktok"]["status"], "AWAITING_SHIPMENT");
    let cancellation = &detail["cancellations"][0];
    assert_eq!(cancellation["key"]["id"], cancel_id.as_str());
    assert_eq!(
        cancellation["tiktok_status"],
        "CANCELLATION_REQUEST_PENDING"
    );

    let rows = json(
        &rig.cli_ok(&config, &["orders", "--view", "cancellations", "--json"])
            .await,
    );
    let row = &rows[0];
    assert_eq!(row["order_id"], imported.as_str());
    assert_eq!(row["awaits_seller"], true);
    assert_eq!(row["initiator"], "BUYER");
    let listed = chrono::DateTime::parse_from_rfc3339(row["seller_deadline"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert_eq!(listed, deadline);

    // Support asks for a resync; it waits for an operator, who approves it from the CLI.
    let me = Account::current().name;
    let support = rig.config_with_access("support.toml", &format!("support = [\"{me}\"]\n"));
    let operator = rig.config_with_access("operator.toml", &format!("operator = [\"{me}\"]\n"));
    let said = rig
        .cli_ok(
            &support,
            &[
                "resync",
                stuck.as_str(),
                "--flow",
                "import",
                "--reason",
                "catalog fixed",
            ],
        )
        .await;
    assert!(said.contains("waits for an operator"), "{said}");
    let requests = json(&rig.cli_ok(&support, &["requests", "--json"]).await);
    let request = &requests.as_array().unwrap()[0];
    assert_eq!(request["flow"], "import");
    assert_eq!(request["targets"][0], stuck.as_str());
    assert_eq!(request["status"]["state"], "pending");
    assert_eq!(request["reason"], "catalog fixed");
    let id = request["id"].to_string();
    let refused = rig.cli(&support, &["approve", &id]).await;
    assert!(!refused.status.success(), "support may not approve");

    let said = rig.cli_ok(&operator, &["approve", &id]).await;
    assert!(said.contains("approved: 1 job(s) queued"), "{said}");
    let said = rig.cli_ok(&operator, &["sync", "--once"]).await;
    assert!(said.contains("1 stuck"), "{said}");
    let requests = json(&rig.cli_ok(&operator, &["requests", "--json"]).await);
    assert_eq!(requests, Value::Array(vec![]));

    let said = rig
        .cli_ok(
            &operator,
            &[
                "settings",
                "set",
                rig.link(GB).as_str(),
                "sync_tracking",
                "off",
            ],
        )
        .await;
    assert!(said.contains("sync_tracking = off"), "{said}");

    rig.reopen();
    let settings: LinkSettings = rig.engine().settings(&rig.link(GB));
    assert!(!settings.sync_tracking);
    let request = rig
        .engine()
        .store()
        .request(id.parse().unwrap())
        .unwrap()
        .unwrap();
    assert!(
        format!("{:?}", request.outcomes[&stuck]).contains(&reason),
        "{:?}",
        request.outcomes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_once_fails_when_a_poll_failed_so_a_timer_notices() {
    let mut rig = Rig::start().await;
    rig.close();
    rig.set
        .tiktok
        .faults()
        .inject("search_orders", FaultKind::ServerError, 1000);
    let failed = rig.cli(&rig.config_path, &["sync", "--once"]).await;
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success(), "{stderr}");
    assert!(
        stderr.contains("poll failed") && stderr.contains("1 poll(s) failed"),
        "{stderr}"
    );

    rig.set.tiktok.faults().clear();
    rig.cli_ok(&rig.config_path, &["sync", "--once"]).await;
}

/// What support does from a script: find the order a customer quotes by its store number,
/// list a view filtered and sorted as the console does, and only as many rows as wanted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_filter_sort_and_limit_and_order_takes_a_store_number() {
    let mut rig = Rig::with(Options {
        shops: 3,
        ..Options::default()
    })
    .await;
    let mut ids = Vec::new();
    for (first, last) in [("Hannah", "Demir"), ("Yusuf", "Okafor"), ("Amara", "Demir")] {
        let mut spec = rig.new_order(GB);
        spec.buyer.first_name = first.into();
        spec.buyer.last_name = last.into();
        set_lines(&mut spec, &[KNOWN_SKU, OTHER_SKU]);
        ids.push(rig.add(&spec));
    }
    rig.sync().await;
    let number = rig.store_order(GB, &ids[1]).name;
    rig.close();
    let config = rig.config_path.clone();
    let listed = |args: &'static [&'static str]| {
        let (rig, config) = (&rig, &config);
        async move {
            let mut all = vec!["orders", "--json"];
            all.extend(args);
            let rows = json(&rig.cli_ok(config, &all).await);
            rows.as_array()
                .expect("rows")
                .iter()
                .map(|r| r["id"].as_str().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        }
    };
    let mut by_id: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    by_id.sort();
    assert_eq!(listed(&["--sort", "id"]).await, by_id);
    by_id.reverse();
    assert_eq!(listed(&["--sort", "id", "--desc"]).await, by_id);
    assert_eq!(
        listed(&["--sort", "id", "--desc", "--limit", "2"]).await,
        by_id[..2]
    );
    let demirs = listed(&["--filter", "demir", "--sort", "buyer"]).await;
    assert_eq!(
        demirs,
        [ids[2].to_string(), ids[0].to_string()],
        "Amara, then Hannah"
    );
    // Sorted by a column the table does not print, it prints that one too.
    let table = rig
        .cli_ok(&config, &["orders", "--filter", "demir", "--sort", "buyer"])
        .await;
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.contains("BUYER") && header.ends_with("WHY"),
        "{table}"
    );
    let amara = table.find("Amara Demir").expect("Amara's row");
    assert!(
        amara < table.find("Hannah Demir").expect("Hannah's row"),
        "{table}"
    );

    // The number the customer quotes, with or without its '#'.
    for quoted in [number.clone(), number.trim_start_matches('#').to_string()] {
        let detail = json(&rig.cli_ok(&config, &["order", &quoted, "--json"]).await);
        assert_eq!(detail["order"]["id"], ids[1].as_str(), "{quoted}");
    }
    // One number two stores gave: both listed, and no one order shown.
    rig.reopen();
    let twin = rig.paid_order(ID);
    rig.sync().await;
    let shared = rig.store_order(ID, &twin).name;
    let first = ids
        .iter()
        .find(|id| rig.store_order(GB, id).name == shared)
        .expect("both stores number alike")
        .clone();
    rig.close();
    let both = rig.cli(&config, &["order", &shared]).await;
    let listed = String::from_utf8_lossy(&both.stdout);
    assert_eq!(both.status.code(), Some(1));
    assert!(
        listed.contains(twin.as_str()) && listed.contains(first.as_str()),
        "{listed}"
    );
    let said = String::from_utf8_lossy(&both.stderr);
    assert!(said.contains("names 2 orders"), "{said}");

    let unknown = rig.cli(&config, &["order", "#999999"]).await;
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(!unknown.status.success());
    assert!(said.contains("no order is named \"#999999\""), "{said}");
    let refused = rig
        .cli(
            &config,
            &["orders", "--view", "cancellations", "--sort", "id"],
        )
        .await;
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
}
