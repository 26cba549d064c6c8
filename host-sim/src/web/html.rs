//! HTML: escaping, the page frame, and a generic renderer for plugins' settings view models.
//!
//! Every string a plugin, a user or a contact supplies goes through [`esc`] — in text and in
//! attribute values alike — so markup in a contact's name shows as text, never as markup.

use std::fmt::Write as _;

use abi::{Button, Form, Input, InputKind, Section, SettingsView, Tone, User, Widget};

/// The hidden form field carrying the action's name. Double underscore so that it does not
/// collide with a plugin's own field names.
pub const ACTION_FIELD: &str = "__action";

/// Escapes text for HTML element content and for quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes one URL path segment or query value.
pub fn url_part(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn tone_name(tone: Tone) -> &'static str {
    match tone {
        Tone::Normal => "normal",
        Tone::Success => "success",
        Tone::Warning => "warning",
        Tone::Error => "error",
    }
}

pub fn tone_from_name(name: &str) -> Tone {
    match name {
        "success" => Tone::Success,
        "warning" => Tone::Warning,
        "error" => Tone::Error,
        _ => Tone::Normal,
    }
}

/// A message shown once at the top of a page, after an action.
pub struct Flash {
    pub tone: Tone,
    pub message: String,
}

/// Everything around a page's own content.
pub struct Frame<'a> {
    pub title: &'a str,
    pub user: Option<&'a User>,
    pub flash: Option<Flash>,
    /// Reload the page after this many seconds (a plugin's background run is under way).
    pub refresh_secs: Option<u32>,
    /// How many notices the signed-in user has (shown in the header).
    pub notices: usize,
    /// The signed-in user's language (BCP 47), for the document's `lang`.
    pub lang: String,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#222}\
header{background:#234;color:#fff;padding:.6em 1em}header a{color:#cde;margin-right:1em}\
main{padding:1em;max-width:70em}table{border-collapse:collapse;margin:.5em 0}\
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}\
section{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:1em 0}\
.flash{padding:.5em 1em;border-radius:4px;margin:.5em 0}\
.tone-success{color:#155724}.flash.tone-success{background:#d4edda}\
.tone-warning{color:#856404}.flash.tone-warning{background:#fff3cd}\
.tone-error{color:#721c24}.flash.tone-error{background:#f8d7da}.flash.tone-normal{background:#e2e3e5}\
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}\
form.button-form{display:inline-block;margin:.2em .4em .2em 0}.field{margin:.4em 0}\
.field label{display:inline-block;min-width:12em}.help{display:block;color:#666;font-size:.85em}\
.plugin{border-color:#9ab}#notice-count{background:#c33;color:#fff;border-radius:1em;padding:0 .45em}\
.no-notices #notice-count{background:#567}.notice{border-left:4px solid #999;padding:.3em .8em;margin:.6em 0}\
.notice.tone-warning{border-color:#d9a400}.notice.tone-error{border-color:#c33}";

/// A whole HTML document.
pub fn page(frame: &Frame<'_>, content: &str) -> String {
    let mut out = String::with_capacity(content.len() + 2048);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">",
        esc(&frame.lang)
    );
    if let Some(secs) = frame.refresh_secs {
        let _ = write!(out, "<meta http-equiv=\"refresh\" content=\"{secs}\">");
    }
    let _ = write!(
        out,
        "<title>{} – host-sim CRM</title><style>{STYLE}</style></head><body>",
        esc(frame.title)
    );
    out.push_str("<header><a href=\"/\">host-sim CRM</a>");
    if let Some(user) = frame.user {
        let uid = user.id.0;
        let _ = write!(
            out,
            "<a href=\"/ui/users/{uid}/integrations\" id=\"nav-integrations\">Integrations</a>\
             <a href=\"/ui/users/{uid}/filters\" id=\"nav-filters\">Filters</a>\
             <a href=\"/ui/users/{uid}/notifications\" id=\"nav-notices\" class=\"{}\">Notifications \
             <span id=\"notice-count\">{}</span></a>\
             <a href=\"/ui/users/{uid}/profile\" id=\"nav-profile\">Profile</a>\
             <span id=\"signed-in\">Signed in as {}</span>",
            if frame.notices > 0 {
                "has-notices"
            } else {
                "no-notices"
            },
            frame.notices,
            esc(&user.name)
        );
    }
    out.push_str("</header><main>");
    let _ = write!(out, "<h1>{}</h1>", esc(frame.title));
    if let Some(flash) = &frame.flash {
        let _ = write!(
            out,
            "<div id=\"flash\" class=\"flash tone-{}\" role=\"status\">{}</div>",
            tone_name(flash.tone),
            esc(&flash.message)
        );
    }
    out.push_str(content);
    out.push_str("</main></body></html>\n");
    out
}

/// A plugin's settings view, whose buttons and forms post to `action_url`.
pub fn settings_view(view: &SettingsView, action_url: &str) -> String {
    let mut out = String::new();
    let _ = write!(out, "<h2 class=\"view-title\">{}</h2>", esc(&view.title));
    for section in view.sections.iter() {
        out.push_str(&render_section(section, action_url));
    }
    out
}

fn render_section(section: &Section, action_url: &str) -> String {
    // Sections get a prefix so that a section and the table inside it may share an id.
    let mut out = format!("<section id=\"section-{}\">", esc(&section.id));
    if !section.heading.is_empty() {
        let _ = write!(out, "<h3>{}</h3>", esc(&section.heading));
    }
    for widget in section.widgets.iter() {
        out.push_str(&render_widget(widget, action_url));
    }
    out.push_str("</section>");
    out
}

fn render_widget(widget: &Widget, action_url: &str) -> String {
    match widget {
        Widget::Text { text, tone } => {
            format!("<p class=\"text tone-{}\">{}</p>", tone_name(*tone), esc(text))
        }
        Widget::Facts(facts) => {
            let mut out = String::from("<dl class=\"facts\">");
            for f in facts.iter() {
                let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(&f.label), esc(&f.value));
            }
            out.push_str("</dl>");
            out
        }
        Widget::Table { id, columns, rows } => {
            let mut out = format!("<table id=\"{}\"><thead><tr>", esc(id));
            for c in columns.iter() {
                let _ = write!(out, "<th>{}</th>", esc(c));
            }
            out.push_str("</tr></thead><tbody>");
            for row in rows.iter() {
                out.push_str("<tr>");
                for cell in row.iter() {
                    let _ = write!(out, "<td>{}</td>", esc(cell));
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table>");
            out
        }
        Widget::Progress { label, done, total } => {
            // Without a total the bar is indeterminate, which is what "counting…" looks like.
            let bar = if *total == 0 {
                "<progress></progress>".to_string()
            } else {
                format!("<progress value=\"{done}\" max=\"{total}\"></progress> {done} / {total}")
            };
            format!(
                "<div class=\"progress\"><span class=\"progress-label\">{}</span> {bar}</div>",
                esc(label)
            )
        }
        Widget::Button(button) => render_button(button, action_url),
        Widget::Form(form) => render_form(form, action_url),
    }
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        esc(name),
        esc(value)
    )
}

fn render_button(button: &Button, action_url: &str) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"{}\" class=\"button-form\">",
        esc(action_url)
    );
    out.push_str(&hidden(ACTION_FIELD, &button.action.name));
    for f in button.action.fields.iter() {
        out.push_str(&hidden(&f.name, &f.value));
    }
    let confirm = if button.confirm.is_empty() {
        String::new()
    } else {
        // A JSON string is a valid JavaScript string literal; escaping it again for the
        // attribute keeps quotes in the question from ending the attribute.
        let literal = serde_json::Value::String(button.confirm.to_string()).to_string();
        format!(" onclick=\"return confirm({})\"", esc(&literal))
    };
    let _ = write!(
        out,
        "<button type=\"submit\" id=\"{}\" class=\"tone-{}\"{confirm}>{}</button></form>",
        esc(&button.id),
        tone_name(button.tone),
        esc(&button.label)
    );
    out
}

fn render_form(form: &Form, action_url: &str) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"{}\" id=\"{}\" class=\"settings-form\">",
        esc(action_url),
        esc(&form.id)
    );
    out.push_str(&hidden(ACTION_FIELD, &form.action));
    for f in form.hidden.iter() {
        out.push_str(&hidden(&f.name, &f.value));
    }
    for input in form.inputs.iter() {
        out.push_str(&render_input(input));
    }
    let _ = write!(
        out,
        "<button type=\"submit\" id=\"{}-submit\">{}</button></form>",
        esc(&form.id),
        esc(&form.submit_label)
    );
    out
}

fn render_input(input: &Input) -> String {
    let name = esc(&input.name);
    let value = esc(&input.value);
    let control = match input.kind {
        InputKind::Text => format!("<input type=\"text\" id=\"{name}\" name=\"{name}\" value=\"{value}\">"),
        InputKind::Number => {
            format!("<input type=\"number\" step=\"any\" id=\"{name}\" name=\"{name}\" value=\"{value}\">")
        }
        InputKind::Select => {
            let mut s = format!("<select id=\"{name}\" name=\"{name}\">");
            for choice in input.options.iter() {
                let selected = if choice.value == input.value {
                    " selected"
                } else {
                    ""
                };
                let _ = write!(
                    s,
                    "<option value=\"{}\"{selected}>{}</option>",
                    esc(&choice.value),
                    esc(&choice.label)
                );
            }
            s.push_str("</select>");
            s
        }
        InputKind::Checkbox => {
            // An unchecked box sends nothing; the hidden "false" before it makes the field
            // always present, and the handler keeps the last value of a name.
            let checked = if input.value.as_str() == "true" {
                " checked"
            } else {
                ""
            };
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"false\">\
                 <input type=\"checkbox\" id=\"{name}\" name=\"{name}\" value=\"true\"{checked}>"
            )
        }
    };
    let help = if input.help.is_empty() {
        String::new()
    } else {
        format!("<small class=\"help\">{}</small>", esc(&input.help))
    };
    format!(
        "<div class=\"field\"><label for=\"{name}\">{}</label> {control}{help}</div>",
        esc(&input.label)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::{Field, SettingsAction};

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(esc("\"><img src=x>&"), "&quot;&gt;&lt;img src=x&gt;&amp;");
    }

    #[test]
    fn a_button_with_a_hostile_confirm_question_stays_one_attribute() {
        let button = Button {
            id: "x\"y".into(),
            label: "<b>".into(),
            action: SettingsAction {
                name: "go".into(),
                fields: vec![Field {
                    name: "a\"".into(),
                    value: "<v>".into(),
                }]
                .into(),
            },
            tone: Tone::Warning,
            confirm: "Really \"delete\" </script>?".into(),
        };
        let html = render_button(&button, "/act?page=integration");
        assert!(
            !html.contains("<b>") && !html.contains("<v>") && !html.contains("</script>"),
            "{html}"
        );
        assert!(html.contains("id=\"x&quot;y\""), "{html}");
        assert!(
            html.contains(
                "onclick=\"return confirm(&quot;Really \\&quot;delete\\&quot; &lt;/script&gt;?&quot;)\""
            ),
            "{html}"
        );
    }
}
