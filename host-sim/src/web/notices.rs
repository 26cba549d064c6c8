//! The user's notifications page (notices plugins raised) and profile page (language and time
//! zone picker).

use std::fmt::Write as _;

use abi::{FilterId, SettingsPage, Tone, User};

use super::html::{esc, Frame};
use super::routes::{page_path, redirect_with_flash, respond, take_flash};
use super::{Ctx, Req, Resp};
use crate::locales::{LANGUAGES, PICKER_ZONES};

fn frame<'a>(ctx: &Ctx, req: &Req, title: &'a str, user: &'a User) -> Frame<'a> {
    Frame {
        title,
        user: Some(user),
        flash: take_flash(req),
        refresh_secs: None,
        notices: ctx.sim.shared().notices.of_user(user.id).len(),
        lang: ctx.sim.shared().locales.of(user.id).language,
    }
}

pub(crate) fn page(ctx: &Ctx, req: &Req, user: &User) -> Resp {
    let notices = ctx.sim.shared().notices.of_user(user.id);
    let mut content = String::new();
    if notices.is_empty() {
        content.push_str("<p id=\"no-notices\">Nothing needs your attention.</p>");
    }
    content.push_str("<div id=\"notices\">");
    for n in &notices {
        let page = match n.filter {
            Some(f) => SettingsPage::Filter(FilterId(f)),
            None => SettingsPage::Integration,
        };
        let _ = write!(
            content,
            "<div class=\"notice tone-{tone}\" data-key=\"{key}\" data-plugin=\"{plugin}\">\
             <h3>{title}</h3><p>{body}</p><p><a href=\"{link}\">Open</a></p></div>",
            tone = n.tone,
            key = esc(&n.key),
            plugin = esc(&n.plugin),
            title = esc(&n.title),
            body = esc(&n.body),
            link = esc(&page_path(user.id, page)),
        );
    }
    content.push_str("</div>");
    respond(req, frame(ctx, req, "Notifications", user), &content)
}

pub(crate) fn profile(ctx: &Ctx, req: &Req, user: &User) -> Resp {
    let locale = ctx.sim.shared().locales.of(user.id);
    let mut content = format!(
        "<form method=\"post\" action=\"/ui/users/{}/locale\" id=\"locale-form\">\
         <div class=\"field\"><label for=\"language\">Language</label><select name=\"language\" id=\"language\">",
        user.id.0
    );
    for (code, name) in LANGUAGES {
        let selected = if locale.language == *code { " selected" } else { "" };
        let _ = write!(
            content,
            "<option value=\"{code}\"{selected}>{}</option>",
            esc(name)
        );
    }
    content.push_str(
        "</select></div><div class=\"field\"><label for=\"time_zone\">Time zone</label>\
         <select name=\"time_zone\" id=\"time_zone\">",
    );
    let mut zones: Vec<&str> = PICKER_ZONES.to_vec();
    if !zones.contains(&locale.time_zone.as_str()) {
        zones.push(&locale.time_zone);
    }
    for zone in zones {
        let selected = if locale.time_zone == zone { " selected" } else { "" };
        let _ = write!(content, "<option value=\"{0}\"{selected}>{0}</option>", esc(zone));
    }
    content.push_str("</select></div><button type=\"submit\" id=\"save-locale\">Save</button></form>");
    respond(req, frame(ctx, req, "Profile", user), &content)
}

pub(crate) fn post_locale(ctx: &Ctx, req: &Req, user: &User) -> Resp {
    let form = req.form();
    let field = |name: &str| {
        form.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let back = format!("/ui/users/{}/profile", user.id.0);
    match ctx
        .sim
        .shared()
        .locales
        .set(user.id, &field("language"), &field("time_zone"))
    {
        Ok(l) => redirect_with_flash(
            &back,
            Tone::Success,
            &format!("Saved: {} in {}.", l.language, l.time_zone),
        ),
        Err(e) => redirect_with_flash(&back, Tone::Error, &e.to_string()),
    }
}
