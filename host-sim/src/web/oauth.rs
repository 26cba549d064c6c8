//! The OAuth redirect target. Google sends the browser here with `code` and `state` (or
//! `error`); the CRM hands the query parameters to the plugin as the `oauth_callback` action,
//! as the user who left for Google, on the page they left from.

use abi::{Field, SettingsAction, SettingsPage, Tone, UserId};

use super::routes::{
    choose_plugin, error_page, page_of_path, page_path, parse_id, redirect_with_flash, PLUGIN_COOKIE,
    RETURN_COOKIE, USER_COOKIE,
};
use super::{Ctx, Req, Resp};

pub(crate) fn callback(ctx: &Ctx, req: &Req) -> Resp {
    let Some(user) = req
        .cookie(USER_COOKIE)
        .and_then(|u| parse_id(&u))
        .and_then(|id| ctx.sim.crm().user(UserId(id)))
    else {
        return error_page(
            400,
            "Not signed in",
            "Google sent you back, but this browser is not signed in to the CRM. Open the CRM's start page, \
             pick your user and connect again.",
        );
    };
    // The way back is only trusted if it is a settings page of this same user; otherwise the
    // integration page is the safe default.
    let (back, page) = match req.cookie(RETURN_COOKIE).as_deref().and_then(page_of_path) {
        Some((uid, page)) if uid == user.id => (page_path(uid, page), page),
        _ => (
            page_path(user.id, SettingsPage::Integration),
            SettingsPage::Integration,
        ),
    };
    let Some(plugin) = choose_plugin(ctx, req.cookie(PLUGIN_COOKIE).as_deref()) else {
        return redirect_with_flash(
            &back,
            Tone::Error,
            "The plugin that asked Google for access is not loaded.",
        );
    };
    let fields: Vec<Field> = req
        .query
        .iter()
        .map(|(k, v)| Field {
            name: k.as_str().into(),
            value: v.as_str().into(),
        })
        .collect();
    let action = SettingsAction {
        name: "oauth_callback".into(),
        fields: fields.into(),
    };
    match ctx.sim.settings_action(&plugin, user.id, page, action) {
        Ok(outcome) => match outcome.redirect_to.into_option() {
            Some(to) => Resp::redirect(&to),
            None => redirect_with_flash(&back, outcome.tone, &outcome.message),
        },
        Err(e) => redirect_with_flash(&back, Tone::Error, &e.message),
    }
    .clear_cookie(RETURN_COOKIE)
}
