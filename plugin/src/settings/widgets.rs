//! Small constructors for view-model widgets, so the views read like the pages they describe.

use abi::abi_stable::std_types::{RString, RVec};
use abi::{Button, Choice, Fact, Field, Form, Input, InputKind, Section, SettingsAction, Tone, Widget};

pub fn s(text: impl Into<String>) -> RString {
    RString::from(text.into())
}

pub fn section(id: &str, heading: &str, widgets: Vec<Widget>) -> Section {
    Section {
        id: s(id),
        heading: s(heading),
        widgets: RVec::from(widgets),
    }
}

pub fn text(text: impl Into<String>, tone: Tone) -> Widget {
    Widget::Text { text: s(text), tone }
}

pub fn facts(pairs: Vec<(String, String)>) -> Widget {
    Widget::Facts(
        pairs
            .into_iter()
            .map(|(l, v)| Fact {
                label: s(l),
                value: s(v),
            })
            .collect(),
    )
}

pub fn table(id: &str, columns: &[&str], rows: Vec<Vec<String>>) -> Widget {
    Widget::Table {
        id: s(id),
        columns: columns.iter().map(|c| s(*c)).collect(),
        rows: rows.into_iter().map(|r| r.into_iter().map(s).collect()).collect(),
    }
}

pub fn action(name: &str, fields: &[(&str, &str)]) -> SettingsAction {
    SettingsAction {
        name: s(name),
        fields: fields
            .iter()
            .map(|(n, v)| Field {
                name: s(*n),
                value: s(*v),
            })
            .collect(),
    }
}

pub fn button(id: &str, label: &str, action: SettingsAction, tone: Tone, confirm: &str) -> Widget {
    Widget::Button(Button {
        id: s(id),
        label: s(label),
        action,
        tone,
        confirm: s(confirm),
    })
}

pub fn form(id: &str, action: &str, submit: &str, inputs: Vec<Input>, hidden: &[(&str, &str)]) -> Widget {
    Widget::Form(Form {
        id: s(id),
        action: s(action),
        submit_label: s(submit),
        inputs: RVec::from(inputs),
        hidden: hidden
            .iter()
            .map(|(n, v)| Field {
                name: s(*n),
                value: s(*v),
            })
            .collect(),
    })
}

pub fn input(name: &str, label: &str, kind: InputKind, value: &str, help: &str) -> Input {
    Input {
        name: s(name),
        label: s(label),
        kind,
        value: s(value),
        options: RVec::new(),
        help: s(help),
    }
}

pub fn select(name: &str, label: &str, value: &str, choices: &[(&str, &str)], help: &str) -> Input {
    Input {
        name: s(name),
        label: s(label),
        kind: InputKind::Select,
        value: s(value),
        options: choices
            .iter()
            .map(|(v, l)| Choice {
                value: s(*v),
                label: s(*l),
            })
            .collect(),
        help: s(help),
    }
}
