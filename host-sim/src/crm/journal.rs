//! An append-only journal of CRM changes, one JSON line each. A torn last line (the process
//! died mid-write) is ignored on replay: the change it held was never acknowledged.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;

use abi::{SavedFilter, User};
use serde::{Deserialize, Serialize};

use super::{ContactRecord, CrmData};

#[derive(Serialize, Deserialize)]
pub enum Entry {
    User(User),
    Filter(SavedFilter),
    Contact(Box<ContactRecord>),
    DeleteContact(u64),
}

pub struct Journal {
    file: Mutex<File>,
}

impl Journal {
    pub fn open(path: &Path) -> std::io::Result<(Journal, CrmData)> {
        let mut data = CrmData {
            next_id: 1,
            ..CrmData::default()
        };
        // Bytes of whole, readable entries: a torn last line is cut off, or the entries
        // appended after it would be lost at the next replay, which stops there.
        let mut good = 0u64;
        let mut torn = false;
        if let Ok(file) = File::open(path) {
            let mut reader = BufReader::new(file);
            let mut line = String::new();
            while reader.read_line(&mut line)? > 0 {
                let whole = line.ends_with('\n');
                match serde_json::from_str::<Entry>(line.trim_end()) {
                    Ok(entry) if whole => apply(&mut data, entry),
                    _ => {
                        torn = true;
                        break;
                    }
                }
                good += line.len() as u64;
                line.clear();
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        if torn {
            file.set_len(good)?;
        }
        Ok((
            Journal {
                file: Mutex::new(file),
            },
            data,
        ))
    }

    /// Appends one entry. The kernel keeps the bytes across a SIGKILL of this process.
    pub fn append(&self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.lock().expect("journal lock poisoned").write_all(&line)
    }
}

fn apply(data: &mut CrmData, entry: Entry) {
    match entry {
        Entry::User(u) => {
            data.next_id = data.next_id.max(u.id.0 + 1);
            data.users.insert(u.id.0, u);
        }
        Entry::Filter(f) => {
            data.next_id = data.next_id.max(f.id.0 + 1);
            data.filters.insert(f.id.0, f);
        }
        Entry::Contact(c) => {
            data.next_id = data.next_id.max(c.contact.id.0 + 1);
            data.insert_contact(*c);
        }
        Entry::DeleteContact(id) => {
            data.remove_contact(id);
        }
    }
}
