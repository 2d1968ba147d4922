//! Labels: TikTok-shipped orders never get tracking pushed; their label is fetched once TikTok
//! has made it, saved as a PDF in the data dir, and reprinted with the configured command.

use orderdeck::domain::access::Role;
use orderdeck::domain::order::FlowStatus;
use orderdeck::service::api::{Request, Response};

use crate::engine::support::*;

/// A new order of GB that TikTok ships, synced.
async fn tiktok_shipped_order(rig: &mut Rig) -> orderdeck::domain::ids::TiktokOrderId {
    let mut spec = rig.new_order(GB);
    spec.shipping_type = "TIKTOK".into();
    let id = rig.add(&spec);
    rig.sync().await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiktok_shipped_orders_get_their_label_saved_and_reprinted_never_tracking_pushed() {
    let dir = tempfile::tempdir().unwrap();
    let printed = dir.path().join("printed.pdf");
    let mut rig = Rig::with(Options {
        shops: 1,
        paths: format!(
            "label_print_command = \"cp {{file}} {}\"",
            printed.display()
        ),
        ..Options::default()
    })
    .await;
    let id = tiktok_shipped_order(&mut rig).await;

    rig.store_order(GB, &id);
    let order = rig.order(&id);
    assert!(
        matches!(&order.flows.tracking.status, FlowStatus::NotApplicable { why } if why.contains("TikTok ships this order")),
        "{:?}",
        order.flows.tracking
    );
    assert!(
        matches!(&order.flows.label.status, FlowStatus::Waiting { why } if why.contains("once shipment is arranged")),
        "{:?}",
        order.flows.label
    );

    // The seller arranges shipment on TikTok: the label exists now.
    rig.set
        .tiktok
        .set_order_status(id.as_str(), "AWAITING_COLLECTION");
    rig.sync().await;
    let order = rig.order(&id);
    assert!(
        is_done(&order.flows.label.status),
        "{:?}",
        order.flows.label
    );
    let path = order.label_file.clone().expect("label saved");
    assert!(
        std::path::Path::new(&path).starts_with(rig.data_dir().join("labels")),
        "{path}"
    );
    assert!(std::fs::read(&path).unwrap().starts_with(b"%PDF"));

    // The warehouse ships with TikTok's label; nothing goes back to TikTok.
    rig.fulfil(GB, &id, "TT0000000001", "Royal Mail");
    rig.sync().await;
    rig.sync().await;
    assert_eq!(rig.set.tiktok.calls("mark_package_as_shipped"), 0);
    assert_eq!(rig.set.tiktok.calls("update_shipping_info"), 0);
    assert_eq!(rig.set.tiktok.tracking_writes(id.as_str()), 0);
    assert_eq!(rig.set.tiktok.calls("get_package_shipping_document"), 1);

    let answer = rig
        .call(
            Role::Support,
            Request::ReprintLabel {
                order: id.clone(),
                print: true,
            },
        )
        .await;
    let Ok(Response::Label {
        path: reprinted,
        printed: true,
    }) = answer
    else {
        panic!("{answer:?}")
    };
    assert_eq!(reprinted, path);
    assert!(std::fs::read(&printed).unwrap().starts_with(b"%PDF"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_print_command_a_reprint_saves_the_label_and_says_where() {
    let mut rig = Rig::start().await;
    let id = tiktok_shipped_order(&mut rig).await;
    rig.set
        .tiktok
        .set_order_status(id.as_str(), "AWAITING_COLLECTION");
    rig.sync().await;

    let answer = rig
        .call(
            Role::Support,
            Request::ReprintLabel {
                order: id.clone(),
                print: true,
            },
        )
        .await;
    let Ok(Response::Label {
        path,
        printed: false,
    }) = answer
    else {
        panic!("a saved label is a success, printed or not: {answer:?}")
    };
    assert!(std::fs::read(&path).unwrap().starts_with(b"%PDF"));
    assert_eq!(rig.order(&id).label_file.as_deref(), Some(path.as_str()));
}

/// The detail's "what you can do" names console commands, so the console can show each with
/// its key (`p label`), and a script can run it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_detail_names_what_a_person_may_do_by_the_commands_that_do_it() {
    let mut rig = Rig::start().await;
    let id = tiktok_shipped_order(&mut rig).await;
    let actions = |role| {
        let rig = &rig;
        let id = id.clone();
        async move {
            match rig.call(role, Request::Order { id }).await {
                Ok(Response::Order(detail)) => detail.actions,
                other => panic!("{other:?}"),
            }
        }
    };
    let admin = actions(Role::Admin).await;
    assert!(admin.contains(&"reprint-label".to_string()), "{admin:?}");
    for name in &admin {
        assert!(
            orderdeck::console::action::Action::parse(name).is_some(),
            "{name:?} is no console command"
        );
    }
    assert!(actions(Role::Viewer).await.is_empty());
}
