//! The two bindings of the one API behave the same: over one service, an in-process client and a
//! socket client (same unix user) get equal answers to the same reads, equal refusals to the same
//! mutations, and the same change notifications once subscribed.

use std::sync::Arc;
use std::time::Duration;

use orderdeck::cli::runtime::close;
use orderdeck::domain::clock::{Clock, SystemClock};
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::request::ResyncFlow;
use orderdeck::domain::triage::OrderView;
use orderdeck::service::api::{
    AuditQuery, CancellationQuery, Notification, OrderColumn, OrderQuery, PROTOCOL_VERSION,
    Request, RequestQuery, Response, ServiceError, SortDir,
};
use orderdeck::service::client::{Client, ClientEvent};
use orderdeck::service::remote::RemoteClient;
use orderdeck::service::socket;
use tokio_util::sync::CancellationToken;

use crate::daemon::support::Daemon;

async fn next_audit_change(events: &mut tokio::sync::broadcast::Receiver<ClientEvent>) -> u64 {
    let wait = async {
        loop {
            if let Ok(ClientEvent::Changed(Notification::Audit { generation })) =
                events.recv().await
            {
                return generation;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("an Audit notification")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_and_socket_clients_get_the_same_answers() {
    // The test's user is a viewer: reads are answered, mutations refused (and nothing changes
    // between the two clients' calls).
    let (sandbox, local, inproc) = Daemon::viewer_in_process().await;
    for link in local.engine.links() {
        local.engine.poll_link(link).await;
    }
    let (listener, _lock) = socket::bind(&sandbox.socket, None).await.expect("binds");
    let stop = CancellationToken::new();
    let served = tokio::spawn(socket::serve(listener, local.service.clone(), stop.clone()));

    let (remote, _) = RemoteClient::connect(&sandbox.socket)
        .await
        .expect("connects");
    let clients: [Arc<dyn Client>; 2] = [inproc, remote];

    let order = TiktokOrderId::new(sandbox.set.scenario.orders[0].id.clone()).unwrap();
    let link = local.engine.links()[0].id.clone();
    let reads = vec![
        Request::Hello {
            protocol: PROTOCOL_VERSION,
            ssh_connection: None,
        },
        Request::Orders(OrderQuery::first_page(OrderView::All, 5)),
        Request::Orders(OrderQuery {
            offset: 5,
            sort: OrderColumn::Created,
            dir: SortDir::Desc,
            ..OrderQuery::first_page(OrderView::All, 5)
        }),
        Request::Orders(OrderQuery::first_page(OrderView::Pending, 500)),
        Request::Cancellations(CancellationQuery {
            link: None,
            filter: None,
            waiting_only: false,
            offset: 0,
            limit: 50,
            sort: Default::default(),
        }),
        Request::Requests(RequestQuery {
            pending_only: false,
            offset: 0,
            limit: 50,
            sort: Default::default(),
        }),
        Request::Order { id: order.clone() },
        Request::FindOrder {
            text: order.to_string(),
        },
        Request::Settings { link },
        Request::Audit(AuditQuery {
            since: None,
            filter: None,
            offset: 0,
            limit: 50,
            sort: Default::default(),
        }),
    ];
    for request in reads {
        let a = clients[0].call(request.clone()).await;
        let b = clients[1].call(request.clone()).await;
        assert!(a.is_ok(), "{request:?}: {a:?}");
        assert_eq!(a, b, "{request:?}");
    }
    match clients[0]
        .call(Request::Orders(OrderQuery::first_page(OrderView::All, 5)))
        .await
    {
        Ok(Response::Orders(page)) => assert!(page.total > 5 && page.rows.len() == 5, "{page:?}"),
        other => panic!("{other:?}"),
    }
    // Filters answer from the order text index: an id finds its order, a link all of its
    // orders, and a term no order has finds none.
    let filtered = |filter: &str| {
        let client = clients[0].clone();
        let query = OrderQuery {
            filter: Some(filter.to_string()),
            ..OrderQuery::first_page(OrderView::All, 500)
        };
        async move {
            match client.call(Request::Orders(query)).await {
                Ok(Response::Orders(page)) => page,
                other => panic!("{other:?}"),
            }
        }
    };
    let by_id = filtered(&format!("id:{order}")).await;
    assert_eq!(
        by_id.rows.iter().map(|r| &r.id).collect::<Vec<_>>(),
        [&order]
    );
    let first_link = local.engine.links()[0].id.clone();
    let of_link = local
        .engine
        .store()
        .count_view(
            OrderView::All,
            Some(&first_link),
            SystemClock.now(),
            &|_| Default::default(),
        )
        .expect("counted");
    let page = filtered(&format!("link:{first_link}")).await;
    assert_eq!(page.total, of_link);
    assert!(page.rows.iter().all(|r| r.link == first_link));
    // Case-smart: a capital letter asks for that case exactly.
    let shouted = first_link.as_str().to_uppercase();
    assert_eq!(filtered(&format!("link:{shouted}")).await.total, 0);
    assert_eq!(filtered("no-such-sku-anywhere").await.total, 0);

    // Subscribed, both hear of a change made by either.
    let mut events: Vec<_> = clients.iter().map(|c| c.events()).collect();
    for client in &clients {
        assert_eq!(
            client.call(Request::Subscribe).await,
            Ok(Response::Subscribed)
        );
    }
    let resync = Request::Resync {
        orders: vec![order],
        flow: ResyncFlow::Import,
        reason: "parity".into(),
    };
    let mut refusals = Vec::new();
    for client in &clients {
        refusals.push(client.call(resync.clone()).await);
        let seen: Vec<u64> =
            futures::future::join_all(events.iter_mut().map(next_audit_change)).await;
        assert_eq!(seen[0], seen[1], "both see the same generation");
    }
    assert_eq!(refusals[0], refusals[1]);
    assert!(
        matches!(&refusals[0], Err(ServiceError::Refused { message }) if message.contains("only support and above")),
        "{:?}",
        refusals[0]
    );

    stop.cancel();
    served.await.unwrap();
    assert!(
        !sandbox.socket.exists(),
        "serve removes its socket when it stops"
    );
    drop(clients);
    close(Some(local));
}
