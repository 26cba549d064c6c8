//! Request dispatch and the CRM's HTML pages.

use std::fmt::Write as _;

use abi::{Contact, ContactId, FilterId, SettingsAction, SettingsPage, Tone, User, UserId};

use super::html::{self, esc, url_part, Flash, Frame};
use super::{api, oauth, Ctx, Req, Resp};

/// The signed-in user (the CRM has no passwords: picking a user on `/` signs in).
pub const USER_COOKIE: &str = "crm_user";
/// Where to come back to after a trip to another site (Google's consent page).
pub const RETURN_COOKIE: &str = "crm_return";
/// Which plugin started that trip.
pub const PLUGIN_COOKIE: &str = "crm_plugin";
/// A message shown once on the next page: `<tone>:<message>`.
pub const FLASH_COOKIE: &str = "crm_flash";

/// How many of a filter's contacts the filter page lists.
const FILTER_PAGE_CONTACTS: usize = 500;

pub(crate) fn handle(ctx: &Ctx, req: &Req) -> Resp {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    if segs.first() == Some(&"api") {
        return api::handle(ctx, req, &segs[1..]);
    }
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", []) => index(ctx, req),
        ("GET", ["favicon.ico"]) => Resp {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        },
        ("GET", ["oauth", "callback"]) => oauth::callback(ctx, req),
        ("GET", ["ui", "users", uid]) => match parse_id(uid) {
            Some(uid) => Resp::redirect(&format!("/ui/users/{uid}/integrations")),
            None => not_found(req),
        },
        ("GET", ["ui", "users", uid, rest @ ..]) => {
            let Some(user) = parse_id(uid).and_then(|id| ctx.sim.crm().user(UserId(id))) else {
                return error_page(
                    404,
                    "No such user",
                    "There is no such user. Pick one on the start page.",
                );
            };
            let resp = match rest {
                ["integrations"] => integrations(ctx, req, &user),
                ["filters"] => filters(ctx, req, &user),
                ["filters", fid] => match parse_id(fid) {
                    Some(fid) => filter_page(ctx, req, &user, FilterId(fid)),
                    None => not_found(req),
                },
                ["contacts", cid] => match parse_id(cid) {
                    Some(cid) => contact_page(ctx, req, &user, ContactId(cid)),
                    None => not_found(req),
                },
                ["notifications"] => super::notices::page(ctx, req, &user),
                ["profile"] => super::notices::profile(ctx, req, &user),
                _ => not_found(req),
            };
            // Every page view signs the user in, so the OAuth callback knows who is back.
            resp.cookie(USER_COOKIE, &user.id.0.to_string())
        }
        ("POST", ["ui", "users", uid, "locale"]) => {
            match parse_id(uid).and_then(|u| ctx.sim.crm().user(UserId(u))) {
                Some(user) => super::notices::post_locale(ctx, req, &user),
                None => error_page(404, "No such user", "There is no such user."),
            }
        }
        ("POST", ["ui", "users", uid, "actions"]) => {
            match parse_id(uid).and_then(|id| ctx.sim.crm().user(UserId(id))) {
                Some(user) => post_action(ctx, req, &user),
                None => error_page(404, "No such user", "There is no such user."),
            }
        }
        (_, ["ui", ..]) | (_, ["oauth", ..]) | (_, []) => error_page(
            405,
            "Method not allowed",
            &format!("{} is not allowed on {}.", req.method, req.path),
        ),
        _ => not_found(req),
    }
}

pub fn parse_id(s: &str) -> Option<u64> {
    s.parse().ok()
}

fn not_found(req: &Req) -> Resp {
    error_page(404, "Not found", &format!("There is no page at {}.", req.path))
}

pub fn error_page(status: u16, title: &str, message: &str) -> Resp {
    let frame = Frame {
        title,
        user: None,
        notices: 0,
        lang: "en".into(),
        flash: None,
        refresh_secs: None,
    };
    let content = format!(
        "<p class=\"text tone-error\">{}</p><p><a href=\"/\">Start page</a></p>",
        esc(message)
    );
    Resp::html(status, html::page(&frame, &content))
}

/// A settings page as it appears in URLs: `integration` or `filter:<id>`.
pub fn page_param(page: SettingsPage) -> String {
    match page {
        SettingsPage::Integration => "integration".into(),
        SettingsPage::Filter(f) => format!("filter:{}", f.0),
    }
}

pub fn parse_page(s: &str) -> Option<SettingsPage> {
    if s == "integration" {
        return Some(SettingsPage::Integration);
    }
    s.strip_prefix("filter:")
        .and_then(parse_id)
        .map(|id| SettingsPage::Filter(FilterId(id)))
}

/// Where a plugin's action was sent from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionPage {
    Settings(SettingsPage),
    /// A plugin's panel on a contact's page.
    Contact(ContactId),
}

/// `integration`, `filter:<id>` or `contact:<id>`.
pub fn parse_action_page(s: &str) -> Option<ActionPage> {
    match s.strip_prefix("contact:") {
        Some(id) => parse_id(id).map(|id| ActionPage::Contact(ContactId(id))),
        None => parse_page(s).map(ActionPage::Settings),
    }
}

/// The CRM page that shows a settings page.
pub fn page_path(user: UserId, page: SettingsPage) -> String {
    match page {
        SettingsPage::Integration => format!("/ui/users/{}/integrations", user.0),
        SettingsPage::Filter(f) => format!("/ui/users/{}/filters/{}", user.0, f.0),
    }
}

/// The settings page a CRM path shows, if any (for the way back from Google).
pub fn page_of_path(path: &str) -> Option<(UserId, SettingsPage)> {
    let segs: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match segs.as_slice() {
        ["ui", "users", uid, "integrations"] => Some((UserId(parse_id(uid)?), SettingsPage::Integration)),
        ["ui", "users", uid, "filters", fid] => Some((
            UserId(parse_id(uid)?),
            SettingsPage::Filter(FilterId(parse_id(fid)?)),
        )),
        _ => None,
    }
}

pub(crate) fn take_flash(req: &Req) -> Option<Flash> {
    let raw = req.cookie(FLASH_COOKIE)?;
    let (tone, message) = raw.split_once(':')?;
    Some(Flash {
        tone: html::tone_from_name(tone),
        message: message.to_string(),
    })
}

/// Renders a page; a flash message read from the cookie is cleared so it shows once.
pub(crate) fn respond(req: &Req, frame: Frame<'_>, content: &str) -> Resp {
    let had_flash = frame.flash.is_some();
    let resp = Resp::html(200, html::page(&frame, content));
    if had_flash || req.cookie(FLASH_COOKIE).is_some() {
        resp.clear_cookie(FLASH_COOKIE)
    } else {
        resp
    }
}

/// Sends the browser back to `path` with a message to show there once.
pub fn redirect_with_flash(path: &str, tone: Tone, message: &str) -> Resp {
    Resp::redirect(path).cookie(FLASH_COOKIE, &flash_value(tone, message))
}

/// A flash cookie's value. Browsers drop cookies over 4 KB and percent-encoding can triple a
/// message, so a long one is cut at 1000 bytes (on a character boundary) rather than lost.
fn flash_value(tone: Tone, message: &str) -> String {
    let mut end = message.len().min(1000);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}:{}", html::tone_name(tone), &message[..end])
}

fn index(ctx: &Ctx, req: &Req) -> Resp {
    let mut content = String::from("<p>Pick a user to sign in as.</p><table id=\"users\"><thead><tr><th>User</th><th>E-mail</th><th>Plan</th><th>Contacts</th><th>Roles</th><th></th></tr></thead><tbody>");
    for u in ctx.sim.crm().users() {
        let _ = write!(
            content,
            "<tr id=\"user-{id}\"><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td>\
             <td><a href=\"/ui/users/{id}/integrations\">Integrations</a> <a href=\"/ui/users/{id}/filters\">Filters</a></td></tr>",
            esc(&u.name),
            esc(&u.email),
            esc(&u.plan.name),
            esc(&u.plan.features.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")),
            super::json::permission_name(u.contacts_permission),
            esc(&u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")),
            id = u.id.0,
        );
    }
    content.push_str("</tbody></table>");
    let _ = write!(
        content,
        "<p>Plugins: {}. JSON API under <code>{}/api/</code>.</p>",
        esc(&ctx.sim.plugin_names().join(", ")),
        esc(&ctx.base_url)
    );
    if let Some(google) = &ctx.google_url {
        let _ = write!(
            content,
            "<p>Fake Google: <a href=\"{0}/control/accounts\">{0}</a></p>",
            esc(google)
        );
    }
    let frame = Frame {
        title: "Users",
        user: None,
        notices: 0,
        lang: "en".into(),
        flash: take_flash(req),
        refresh_secs: None,
    };
    respond(req, frame, &content)
}

/// Every loaded plugin's panel on the page of contact `cid` (ABI 0.1.2), for those that have one.
fn contact_panels(ctx: &Ctx, user: &User, cid: ContactId) -> String {
    let mut out = String::new();
    for plugin in ctx.sim.plugin_names() {
        let action_url = format!(
            "/ui/users/{}/actions?page=contact:{}&plugin={}",
            user.id.0,
            cid.0,
            url_part(&plugin)
        );
        let panel = match ctx.sim.render_contact_panel(&plugin, user.id, cid) {
            Ok(Some(view)) => html::settings_view(&view, &action_url),
            Ok(None) => continue,
            Err(e) => format!(
                "<p class=\"text tone-error\">The plugin {} could not show this contact's panel: {}</p>",
                esc(&plugin),
                esc(&e.message)
            ),
        };
        let _ = write!(
            out,
            "<div class=\"plugin\" id=\"contact-plugin-{}\">{panel}</div>",
            esc(&plugin)
        );
    }
    out
}

/// Every loaded plugin's panel for `page`, and the shortest refresh any of them asks for.
fn plugin_panels(ctx: &Ctx, user: &User, page: SettingsPage) -> (String, Option<u32>) {
    let mut out = String::new();
    let mut refresh: Option<u32> = None;
    for plugin in ctx.sim.plugin_names() {
        let action_url = format!(
            "/ui/users/{}/actions?page={}&plugin={}",
            user.id.0,
            url_part(&page_param(page)),
            url_part(&plugin)
        );
        let _ = write!(out, "<div class=\"plugin\" id=\"plugin-{}\">", esc(&plugin));
        match ctx.sim.render_settings(&plugin, user.id, page) {
            Ok(view) => {
                if let Some(ms) = view.refresh_after_ms.into_option() {
                    let secs = ms.div_ceil(1000).max(1);
                    refresh = Some(refresh.map_or(secs, |r| r.min(secs)));
                }
                out.push_str(&html::settings_view(&view, &action_url));
            }
            Err(e) => {
                let _ = write!(
                    out,
                    "<p class=\"text tone-error\">The plugin {} could not show its settings: {}</p>",
                    esc(&plugin),
                    esc(&e.message)
                );
            }
        }
        out.push_str("</div>");
    }
    (out, refresh)
}

fn integrations(ctx: &Ctx, req: &Req, user: &User) -> Resp {
    let (panels, refresh_secs) = plugin_panels(ctx, user, SettingsPage::Integration);
    let frame = Frame {
        title: "Integrations",
        user: Some(user),
        notices: ctx.sim.shared().notices.of_user(user.id).len(),
        lang: ctx.sim.shared().locales.of(user.id).language,
        flash: take_flash(req),
        refresh_secs,
    };
    respond(req, frame, &panels)
}

fn filters(ctx: &Ctx, req: &Req, user: &User) -> Resp {
    let mut content = String::from(
        "<table id=\"filters\"><thead><tr><th>Filter</th><th>Author</th><th>Saved</th><th>Criteria</th></tr></thead><tbody>",
    );
    for f in ctx.sim.crm().filters() {
        let author = ctx
            .sim
            .crm()
            .user(f.author)
            .map(|u| u.name.to_string())
            .unwrap_or_else(|| format!("#{}", f.author.0));
        let _ = write!(
            content,
            "<tr id=\"filter-{fid}\"><td><a href=\"/ui/users/{uid}/filters/{fid}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.name),
            esc(&author),
            if f.saved { "yes" } else { "no" },
            esc(&criteria_text(&f)),
            fid = f.id.0,
            uid = user.id.0,
        );
    }
    content.push_str("</tbody></table>");
    let frame = Frame {
        title: "Filters",
        user: Some(user),
        notices: ctx.sim.shared().notices.of_user(user.id).len(),
        lang: ctx.sim.shared().locales.of(user.id).language,
        flash: take_flash(req),
        refresh_secs: None,
    };
    respond(req, frame, &content)
}

fn criteria_text(f: &abi::SavedFilter) -> String {
    f.criteria
        .iter()
        .map(|c| format!("{} {} {}", c.field, c.op, c.value).trim().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn display_name(c: &Contact) -> String {
    let name = [
        c.name.prefix.as_str(),
        c.name.given.as_str(),
        c.name.middle.as_str(),
        c.name.family.as_str(),
        c.name.suffix.as_str(),
    ]
    .iter()
    .filter(|p| !p.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ");
    if !name.is_empty() {
        name
    } else if let Some(e) = c.emails.first() {
        e.value.to_string()
    } else {
        format!("Contact {}", c.id.0)
    }
}

fn filter_page(ctx: &Ctx, req: &Req, user: &User, fid: FilterId) -> Resp {
    let Some(filter) = ctx.sim.crm().filter(fid) else {
        return error_page(404, "No such filter", &format!("There is no filter {}.", fid.0));
    };
    let author = ctx
        .sim
        .crm()
        .user(filter.author)
        .map(|u| u.name.to_string())
        .unwrap_or_default();
    let mut content = format!(
        "<dl class=\"facts\" id=\"filter-facts\"><dt>Filter</dt><dd id=\"filter-name\">{}</dd><dt>Author</dt><dd>{}</dd>\
         <dt>Saved</dt><dd>{}</dd><dt>Criteria</dt><dd id=\"filter-criteria\">{}</dd></dl>",
        esc(&filter.name),
        esc(&author),
        if filter.saved { "yes" } else { "no" },
        esc(&criteria_text(&filter))
    );
    match ctx
        .sim
        .crm()
        .filter_contacts(fid, user.id, ContactId(0), FILTER_PAGE_CONTACTS + 1)
    {
        Ok(contacts) => {
            let shown = contacts.len().min(FILTER_PAGE_CONTACTS);
            let _ = write!(
                content,
                "<h2>Contacts</h2><p id=\"contact-count\">Contacts you can see: {}{}</p>\
                 <table id=\"contacts\"><thead><tr><th>Name</th><th>E-mail</th><th>Phone</th><th>Company</th></tr></thead><tbody>",
                if contacts.len() > FILTER_PAGE_CONTACTS { "more than " } else { "" },
                shown
            );
            for c in contacts.iter().take(FILTER_PAGE_CONTACTS) {
                let _ = write!(
                    content,
                    "<tr id=\"contact-{cid}\"><td><a href=\"/ui/users/{uid}/contacts/{cid}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&display_name(c)),
                    esc(c.emails.first().map(|e| e.value.as_str()).unwrap_or("")),
                    esc(c.phones.first().map(|e| e.value.as_str()).unwrap_or("")),
                    esc(&c.company),
                    cid = c.id.0,
                    uid = user.id.0,
                );
            }
            content.push_str("</tbody></table>");
        }
        Err(e) => {
            let _ = write!(
                content,
                "<p class=\"text tone-error\">{}</p>",
                esc(&e.to_string())
            );
        }
    }
    let (panels, refresh_secs) = plugin_panels(ctx, user, SettingsPage::Filter(fid));
    content.push_str(&panels);
    let title = format!("Filter: {}", filter.name);
    let frame = Frame {
        title: &title,
        user: Some(user),
        notices: ctx.sim.shared().notices.of_user(user.id).len(),
        lang: ctx.sim.shared().locales.of(user.id).language,
        flash: take_flash(req),
        refresh_secs,
    };
    respond(req, frame, &content)
}

fn contact_page(ctx: &Ctx, req: &Req, user: &User, cid: ContactId) -> Resp {
    let contact = match ctx.sim.crm().contact_as(user.id, cid) {
        Ok(Some(c)) => c,
        Ok(None) if ctx.sim.crm().contact(cid).is_some() => {
            return error_page(
                403,
                "Not allowed",
                &format!("{} may not see contact {}.", user.name, cid.0),
            )
        }
        Ok(None) | Err(_) => {
            return error_page(404, "No such contact", &format!("There is no contact {}.", cid.0))
        }
    };
    let record = ctx.sim.crm().contact(cid);
    let mut facts: Vec<(&str, String)> = vec![
        ("Name", display_name(&contact)),
        ("Given name", contact.name.given.to_string()),
        ("Family name", contact.name.family.to_string()),
        ("E-mails", typed_list(&contact.emails)),
        ("Phones", typed_list(&contact.phones)),
        ("Company", contact.company.to_string()),
        ("Position", contact.position.to_string()),
        ("Gender", contact.gender.to_string()),
        (
            "Birthday",
            contact
                .birthday
                .into_option()
                .map(|b| match b.year.into_option() {
                    Some(y) => format!("{y:04}-{:02}-{:02}", b.month, b.day),
                    None => format!("--{:02}-{:02}", b.month, b.day),
                })
                .unwrap_or_default(),
        ),
        ("Notes", contact.notes.to_string()),
        (
            "Addresses",
            contact
                .addresses
                .iter()
                .map(|a| {
                    let parts = [
                        &a.street,
                        &a.extended,
                        &a.po_box,
                        &a.city,
                        &a.region,
                        &a.postal_code,
                        &a.country,
                    ];
                    let text = parts
                        .iter()
                        .filter(|p| !p.is_empty())
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    if a.kind.is_empty() {
                        text
                    } else {
                        format!("{text} ({})", a.kind)
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ("Web sites", typed_list(&contact.websites)),
        ("VKontakte", contact.vkontakte.to_string()),
        ("Facebook", contact.facebook.to_string()),
        (
            "Messengers",
            contact
                .messengers
                .iter()
                .map(|m| format!("{}: {}", m.protocol, m.username))
                .collect::<Vec<_>>()
                .join("; "),
        ),
    ];
    for f in contact.custom_fields.iter() {
        let label = if f.label.is_empty() {
            f.key.as_str()
        } else {
            f.label.as_str()
        };
        facts.push((label, f.value.to_string()));
    }
    if let Some(r) = &record {
        let owner = ctx
            .sim
            .crm()
            .user(r.owner)
            .map(|u| u.name.to_string())
            .unwrap_or_else(|| format!("#{}", r.owner.0));
        facts.push(("Owner", owner));
        facts.push(("Visible to", super::json::visibility(&r.visibility).to_string()));
    }
    facts.push(("Updated", chrono_ms(contact.updated_at_ms)));
    let mut content = String::from("<dl class=\"facts\" id=\"contact\">");
    for (label, value) in facts {
        let id: String = label
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase();
        let _ = write!(
            content,
            "<dt>{}</dt><dd id=\"field-{}\">{}</dd>",
            esc(label),
            esc(&id),
            esc(&value)
        );
    }
    content.push_str("</dl>");
    content.push_str(&contact_panels(ctx, user, cid));
    let title = format!("Contact: {}", display_name(&contact));
    let frame = Frame {
        title: &title,
        user: Some(user),
        notices: ctx.sim.shared().notices.of_user(user.id).len(),
        lang: ctx.sim.shared().locales.of(user.id).language,
        flash: take_flash(req),
        refresh_secs: None,
    };
    respond(req, frame, &content)
}

fn typed_list(values: &[abi::TypedValue]) -> String {
    values
        .iter()
        .map(|v| {
            if v.kind.is_empty() {
                v.value.to_string()
            } else {
                format!("{} ({})", v.value, v.kind)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn chrono_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// The plugin an action or callback is for: the one named, else the only/first one loaded.
pub fn choose_plugin(ctx: &Ctx, named: Option<&str>) -> Option<String> {
    let names = ctx.sim.plugin_names();
    match named {
        Some(n) => names.into_iter().find(|p| p == n),
        None => names.into_iter().next(),
    }
}

/// A button press or a submitted form from a settings panel.
fn post_action(ctx: &Ctx, req: &Req, user: &User) -> Resp {
    let Some(from) = req.query("page").and_then(parse_action_page) else {
        return error_page(
            400,
            "Bad request",
            "The action's page is missing or not integration / filter:<id> / contact:<id>.",
        );
    };
    let (page, back) = match from {
        ActionPage::Settings(page) => (page, page_path(user.id, page)),
        // A contact panel's actions reach the plugin as the integration page's (ABI 0.1.2).
        ActionPage::Contact(c) => (
            SettingsPage::Integration,
            format!("/ui/users/{}/contacts/{}", user.id.0, c.0),
        ),
    };
    let Some(plugin) = choose_plugin(ctx, req.query("plugin")) else {
        return redirect_with_flash(&back, Tone::Error, "That plugin is not loaded.");
    };
    // Later values of a name replace earlier ones (a checkbox's hidden "false" comes first),
    // keeping the order in which names first appeared.
    let mut name = None;
    let mut fields: Vec<abi::Field> = Vec::new();
    for (k, v) in req.form() {
        if k == html::ACTION_FIELD {
            name = Some(v);
        } else if let Some(f) = fields.iter_mut().find(|f| f.name.as_str() == k) {
            f.value = v.into();
        } else {
            fields.push(abi::Field {
                name: k.into(),
                value: v.into(),
            });
        }
    }
    let Some(name) = name else {
        return redirect_with_flash(&back, Tone::Error, "The form sent no action.");
    };
    let action = SettingsAction {
        name: name.into(),
        fields: fields.into(),
    };
    match ctx.sim.download(&plugin, user.id, page, &action) {
        Ok(Some(file)) => return Resp::attachment(file),
        Ok(None) => {}
        Err(e) => return redirect_with_flash(&back, Tone::Error, &e.message),
    }
    match ctx.sim.settings_action(&plugin, user.id, page, action) {
        Ok(outcome) => match outcome.redirect_to.into_option() {
            // Off to another site (Google's consent page); remember the way back.
            Some(to) => {
                let resp = Resp::redirect(&to)
                    .cookie(RETURN_COOKIE, &back)
                    .cookie(PLUGIN_COOKIE, &plugin)
                    .cookie(USER_COOKIE, &user.id.0.to_string());
                if outcome.message.is_empty() {
                    resp
                } else {
                    resp.cookie(FLASH_COOKIE, &flash_value(outcome.tone, &outcome.message))
                }
            }
            None => redirect_with_flash(&back, outcome.tone, &outcome.message),
        },
        Err(e) => redirect_with_flash(&back, Tone::Error, &e.message),
    }
}
