//! `cargo xtask demo`: a local CloudFront with private media, provisioned by cfsign-provision,
//! the signing server holding the key, a signed link and the same link unsigned, and a player page
//! playing a private HLS/DASH stream from another origin with signed cookies; runs until Ctrl-C.

use std::thread;
use std::time::Duration;

use serde_json::json;

use cfsign_tests::http;

use crate::stack::{self, CLIENT_TOKEN, ServerKey};
use crate::{Options, Result};

/// Runs the demo.
pub(crate) fn run(options: Options) -> Result<()> {
    let work = std::env::temp_dir().join(format!("cfsign-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "== demo: building and starting (work directory {})",
        work.display()
    );
    let mut stack = stack::start(&work, options.release)?;
    let key_id = stack.setup_field("key_pair_id")?.to_owned();
    let key_path = stack.setup_field("private_key_path")?.to_owned();
    let config = work.join("server.toml");
    stack::write_server_config(
        &stack,
        &[ServerKey {
            id: key_id.clone(),
            path: key_path.clone().into(),
        }],
        &config,
    )?;
    stack.start_server(&config)?;
    let server = stack.server_url()?.to_owned();

    let image = stack.edge_url("/private/image.svg");
    let resp = http::post_json(
        &format!("{server}/v1/sign"),
        &json!({ "url": image, "ttl": "1h" }),
    )
    .bearer(CLIENT_TOKEN)
    .send()?;
    if resp.status != 200 {
        return Err(format!(
            "cfsign-server refused to sign: {} {}",
            resp.status,
            resp.text()
        ));
    }
    let signed = resp.json()?["signed_url"]
        .as_str()
        .ok_or("cfsign-server's answer has no signed_url")?
        .to_owned();
    let signed_status = http::get(&signed).send()?.status;
    let unsigned = http::get(&image).send()?;
    let pattern = stack.edge_url("/private/*");
    println!("== demo: a private HLS/DASH stream and the player page");
    let stream = match crate::stream_demo::start(&stack, &work) {
        Ok(d) => format!(
            " Private stream (cookies for /private/stream/, CORS for the player page's origin):
   HLS  {}
   DASH {}
   headless Chromium: {}
",
            d.hls_page, d.dash_page, d.headless
        ),
        Err(why) => format!(" Private stream: skipped ({why})\n"),
    };

    println!(
        r#"
==========================================================================================
 cfsign demo is running. Press Ctrl-C to stop everything.

 Local CloudFront (cfsign-mock)   control plane {endpoint}
   distribution {dist}  ({domain}); /private/* needs a signature, the rest is public
   console (every request with the edge's decision and why; verify a URL): {endpoint}/_cfsign/
 Provisioned by cfsign-provision  key {key_id} in key group {group}
   private key (0600): {key_path}
 Signing server (cfsign-server)   {server}   bearer token: {token}

 Signed link, valid 1 hour (the edge answered {signed_status}); open it in a browser or:
   curl -i '{signed}'

 The same link unsigned (the edge answered {unsigned_status} {unsigned_code}):
   curl -i '{image}'

{stream}
 More to try:
   curl -s -H 'Authorization: Bearer {token}' -H 'content-type: application/json' -d '{{"url":"{hello}","ttl":"10m"}}' {server}/v1/sign
   curl -s -H 'Authorization: Bearer {token}' -H 'content-type: application/json' -d '{{"resource":"{pattern}"}}' {server}/v1/cookies
   cfsign sign '{hello}' --key-pair-id {key_id} --private-key {key_path} --expires-in 10m
   cfsign verify '<a signed URL>' --trusted-key {key_id}=<public key PEM>
   AWS_ENDPOINT_URL={endpoint} cfsign-provision status --distribution-id {dist}
   AWS_ENDPOINT_URL={endpoint} cfsign-provision doctor --distribution-id {dist} --private-key {key_path} --probe '{hello}'
   curl -s '{endpoint}/_cfsign/requests?status=403'   (the request log as JSON)
   (binaries: cargo install --path crates/cfsign-cli, crates/cfsign-provision, ...)
==========================================================================================
"#,
        endpoint = stack.endpoint(),
        dist = stack.distribution_id(),
        domain = stack.domain(),
        token = CLIENT_TOKEN,
        unsigned_status = unsigned.status,
        unsigned_code = unsigned.error_code().unwrap_or_default(),
        group = stack::KEY_GROUP,
        hello = stack.edge_url("/private/hello.txt"),
    );
    if signed_status != 200 || unsigned.status != 403 {
        return Err(format!(
            "the demo is not working: signed link answered {signed_status}, unsigned {}",
            unsigned.status
        ));
    }
    // Ctrl-C reaches every process of the terminal's foreground group, the services included;
    // if one of them stops on its own, say so and stop the rest (the guards do that on return).
    loop {
        thread::sleep(Duration::from_millis(500));
        let mock = stack.mock_mut();
        if !mock.is_running() {
            return Err(format!(
                "cfsign-mock stopped; its log:\n{}",
                mock.log_tail(20)
            ));
        }
        if let Some(server) = stack.server_mut()
            && !server.is_running()
        {
            return Err(format!(
                "cfsign-server stopped; its log:\n{}",
                server.log_tail(20)
            ));
        }
    }
}
