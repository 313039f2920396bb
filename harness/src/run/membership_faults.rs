//! Membership changes on the nodes: the config's `db.member_remove` / `db.member_add` run on a
//! current member, the removed node's system stopped (its data kept), an added node's data
//! wiped and the node started with `db.join`; and the member list read back with `db.members`.

use super::Ctx;
use crate::platform::Node;
use anyhow::{anyhow, Result};
use ferret_nemesis::membership::Change;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

/// Make a change; what each step said. A step that fails leaves the membership as it was (the
/// probe then shows the change did not take effect) and is in the evidence.
pub(super) async fn apply(ctx: &Ctx, change: &Change) -> Result<Value> {
    let target = ctx.platform.node(change.node())?.clone();
    let mut steps = Vec::new();
    let done = match change {
        Change::Remove { .. } => remove(ctx, &target, &mut steps).await,
        Change::Add { .. } => add(ctx, &target, &mut steps).await,
        Change::Replace { .. } => match remove(ctx, &target, &mut steps).await {
            Ok(()) => add(ctx, &target, &mut steps).await,
            Err(e) => Err(e),
        },
    };
    let error = done.as_ref().err().map(|e| format!("{e:#}"));
    if let Some(e) = &error {
        eprintln!("warning: {} {}: {e}", change_name(change), target.name);
        steps.push(json!({ "error": e }));
    }
    *ctx.membership_error
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = error;
    Ok(json!({ "steps": steps }))
}

fn change_name(c: &Change) -> &'static str {
    match c {
        Change::Remove { .. } => "member-remove",
        Change::Add { .. } => "member-add",
        Change::Replace { .. } => "member-replace",
    }
}

/// A running member other than `not`, to run a membership command on.
async fn via(ctx: &Ctx, not: &str) -> Result<Node> {
    let members: Vec<String> = ctx
        .membership
        .lock()
        .await
        .members
        .iter()
        .cloned()
        .collect();
    for m in members.iter().filter(|m| *m != not) {
        let node = ctx.platform.node(m)?;
        if ctx.db.is_running(node).await {
            return Ok(node.clone());
        }
    }
    Err(anyhow!(
        "no running member to change the membership through"
    ))
}

/// Run a membership command on a member, again for up to 10 s while the cluster may refuse it
/// (electing; etcd refuses a removal until its members have been connected for 5 s).
async fn command(
    ctx: &Ctx,
    name: &str,
    template: &str,
    target: &Node,
    steps: &mut Vec<Value>,
) -> Result<()> {
    let mut last = String::new();
    for attempt in 0..10 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let on = via(ctx, &target.name).await?;
        let cmd = ctx.db.expand_on(template, &on, target);
        let (ok, out) = ctx.platform.exec(&on, &cmd, None).await?;
        let said: String = out.trim().chars().take(400).collect();
        steps.push(json!({"step": name, "on": on.name, "ok": ok, "said": said}));
        if ok {
            return Ok(());
        }
        last = said;
    }
    Err(anyhow!("{name} failed 10 times: {last}"))
}

async fn remove(ctx: &Ctx, target: &Node, steps: &mut Vec<Value>) -> Result<()> {
    let template = ctx.db.config.member_remove.clone().unwrap_or_default();
    command(ctx, "db.member_remove", &template, target, steps).await?;
    // A removed member may stop by itself (etcd does) or serve on alone: stop it either way.
    ctx.db.kill(target).await;
    ctx.membership.lock().await.apply(&Change::Remove {
        node: target.name.clone(),
    });
    Ok(())
}

async fn add(ctx: &Ctx, target: &Node, steps: &mut Vec<Value>) -> Result<()> {
    // A new member starts empty: whatever it held belonged to the member it was.
    let wipe = ctx.db.expand("find {data_dir} -mindepth 1 -delete", target);
    let (ok, out) = ctx.platform.exec(target, &wipe, None).await?;
    if !ok {
        return Err(anyhow!(
            "wiping {}'s data failed: {}",
            target.name,
            out.trim()
        ));
    }
    steps.push(json!({"step": "wipe", "on": target.name}));
    let template = ctx.db.config.member_add.clone().unwrap_or_default();
    command(ctx, "db.member_add", &template, target, steps).await?;
    let members: Vec<String> = {
        let mut m = ctx.membership.lock().await;
        m.apply(&Change::Add {
            node: target.name.clone(),
        });
        m.members.iter().cloned().collect()
    };
    let nodes = members
        .iter()
        .map(|m| ctx.platform.node(m))
        .collect::<Result<Vec<_>>>()?;
    ctx.db.join(ctx.platform.as_ref(), target, &nodes).await?;
    steps.push(json!({"step": "db.join", "on": target.name}));
    Ok(())
}

/// The members the system lists, by the nodes whose address its `db.members` output names;
/// None when no member could be asked.
pub(super) async fn listed(ctx: &Ctx) -> Option<(BTreeSet<String>, String)> {
    let template = ctx.db.config.members.clone()?;
    for _ in 0..5 {
        if let Ok(on) = via(ctx, "").await {
            let cmd = ctx.db.expand(&template, &on);
            if let Ok((true, out)) = ctx.platform.exec(&on, &cmd, None).await {
                let seen = ctx
                    .platform
                    .nodes()
                    .iter()
                    .filter(|n| mentions(&out, &n.ip))
                    .map(|n| n.name.clone())
                    .collect();
                return Some((seen, on.name));
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    None
}

/// Whether `text` names the address `ip` on its own (10.0.0.1 is not in 10.0.0.11).
fn mentions(text: &str, ip: &str) -> bool {
    let part = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit() || c == '.');
    text.match_indices(ip).any(|(at, _)| {
        !part(text[..at].chars().next_back()) && !part(text[at + ip.len()..].chars().next())
    })
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn an_address_is_found_only_on_its_own() {
        let out = "8e9e05c52164694d, started, n1, http://10.0.0.11:2380, http://10.0.0.11:2379\n";
        assert!(mentions(out, "10.0.0.11"));
        assert!(!mentions(out, "10.0.0.1"));
        assert!(!mentions(out, "0.0.0.11"));
        assert!(mentions("peer 10.0.0.1", "10.0.0.1"));
    }
}
