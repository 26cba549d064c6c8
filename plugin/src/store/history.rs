//! The history of what the sync changed, per binding: one row per change (see
//! `domain::history::Entry`), with its run and time, kept for a number of days and rows.

use rusqlite::{params, Connection};

use super::Cached as _;
use super::{from_json, to_json, StoreError};
use crate::domain::history::{Action, Entry, Side, Why};

/// A recorded change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub id: i64,
    pub run: i64,
    pub at: i64,
    pub entry: Entry,
    /// An undo has handled it (restored it, or found it changed since and kept it).
    pub undone: bool,
}

/// Which changes to show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub contact_id: Option<u64>,
    pub side: Option<Side>,
    pub run: Option<i64>,
    /// One change.
    pub id: Option<i64>,
}

pub fn record(
    conn: &Connection,
    binding: i64,
    run: i64,
    at: i64,
    entries: &[Entry],
) -> Result<(), StoreError> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO history (binding_id, run_id, at, contact_id, google_id, name, side, action, field, old, new, why)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for e in entries {
        insert.execute(params![
            binding,
            run,
            at,
            e.contact_id.map(|id| id as i64),
            e.google_id,
            e.name,
            e.side.as_str(),
            e.action.as_str(),
            e.field,
            to_json(&e.old),
            to_json(&e.new),
            e.why.as_str(),
        ])?;
    }
    Ok(())
}

/// The binding's changes matching `query`, newest first, at most `limit`.
pub fn changes(
    conn: &Connection,
    binding: i64,
    query: &Query,
    limit: u32,
) -> Result<Vec<Change>, StoreError> {
    let mut all = Vec::new();
    each(conn, binding, query, limit, |c| {
        all.push(c);
        Ok(())
    })?;
    Ok(all)
}

/// Hands `f` the binding's changes matching `query`, newest first, at most `limit`, one at a
/// time: an export of a binding's whole history never holds it all.
pub fn each(
    conn: &Connection,
    binding: i64,
    query: &Query,
    limit: u32,
    mut f: impl FnMut(Change) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, run_id, at, contact_id, google_id, name, side, action, field, old, new, why, undone
         FROM history WHERE binding_id = ?1
           AND (?2 IS NULL OR contact_id = ?2) AND (?3 IS NULL OR side = ?3) AND (?4 IS NULL OR run_id = ?4)
           AND (?5 IS NULL OR id = ?5)
         ORDER BY id DESC LIMIT ?6",
    )?;
    let mut rows = stmt.query(params![
        binding,
        query.contact_id.map(|id| id as i64),
        query.side.map(Side::as_str),
        query.run,
        query.id,
        limit
    ])?;
    while let Some(row) = rows.next()? {
        f(change_of(row)?)?;
    }
    Ok(())
}

fn change_of(r: &rusqlite::Row) -> Result<Change, StoreError> {
    let id: i64 = r.get(0)?;
    let text = |i: usize| r.get::<_, String>(i);
    let corrupt =
        |what: &str, text: &str| StoreError::Corrupt(format!("history row {id}: {what} \"{text}\""));
    let (side, action, why) = (text(6)?, text(7)?, text(11)?);
    let entry = Entry {
        contact_id: r.get::<_, Option<i64>>(3)?.map(|v| v as u64),
        google_id: r.get(4)?,
        name: text(5)?,
        side: Side::parse(&side).ok_or_else(|| corrupt("side", &side))?,
        action: Action::parse(&action).ok_or_else(|| corrupt("action", &action))?,
        field: r.get(8)?,
        old: from_json(&text(9)?)?,
        new: from_json(&text(10)?)?,
        why: Why::parse(&why).ok_or_else(|| corrupt("reason", &why))?,
    };
    Ok(Change {
        id,
        run: r.get(1)?,
        at: r.get(2)?,
        entry,
        undone: r.get(12)?,
    })
}

/// One recorded change of the binding.
pub fn change(conn: &Connection, binding: i64, id: i64) -> Result<Option<Change>, StoreError> {
    let query = Query {
        id: Some(id),
        ..Query::default()
    };
    Ok(changes(conn, binding, &query, 1)?.pop())
}

pub fn mark_undone(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.execute_cached("UPDATE history SET undone = 1 WHERE id = ?1", [id])?;
    Ok(())
}

/// Keeps the binding's changes of the last `days` days, and at most `rows` of them.
pub fn trim(conn: &Connection, binding: i64, now: i64, days: u32, rows: u32) -> Result<(), StoreError> {
    let before = now - i64::from(days) * 24 * 3600 * 1000;
    conn.prepare_cached("DELETE FROM history WHERE binding_id = ?1 AND at < ?2")?
        .execute(params![binding, before])?;
    conn.prepare_cached(
        "DELETE FROM history WHERE binding_id = ?1 AND id <= (
             SELECT id FROM history WHERE binding_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    )?
    .execute(params![binding, rows])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Fields;
    use crate::store::Store;

    fn entry(contact: u64, side: Side) -> Entry {
        Entry {
            contact_id: Some(contact),
            google_id: None,
            name: format!("c{contact}"),
            side,
            action: Action::Updated,
            field: Some("notes".into()),
            old: Fields::default(),
            new: Fields::default(),
            why: Why::EditedInCrm,
        }
    }

    #[test]
    fn the_history_keeps_the_last_days_and_rows_and_filters_by_contact_side_and_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn();
        let day = 24 * 3600 * 1000;
        record(&conn, 1, 1, 0, &[entry(1, Side::Google)]).unwrap();
        record(
            &conn,
            1,
            2,
            10 * day,
            &[entry(1, Side::Crm), entry(2, Side::Google)],
        )
        .unwrap();
        record(&conn, 1, 3, 11 * day, &[entry(3, Side::Google)]).unwrap();
        record(&conn, 2, 4, 11 * day, &[entry(3, Side::Google)]).unwrap();
        let all = |q: Query| changes(&conn, 1, &q, 100).unwrap();
        assert_eq!(all(Query::default()).len(), 4);
        let by_contact = all(Query {
            contact_id: Some(1),
            ..Query::default()
        });
        assert_eq!(by_contact.iter().map(|c| c.run).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(
            all(Query {
                side: Some(Side::Crm),
                ..Query::default()
            })
            .len(),
            1
        );
        assert_eq!(
            all(Query {
                run: Some(2),
                ..Query::default()
            })
            .len(),
            2
        );
        trim(&conn, 1, 11 * day, 5, 100).unwrap();
        assert_eq!(all(Query::default()).len(), 3, "older than 5 days goes");
        trim(&conn, 1, 11 * day, 5, 2).unwrap();
        let kept = all(Query::default());
        assert_eq!(
            kept.iter().map(|c| c.run).collect::<Vec<_>>(),
            vec![3, 2],
            "the newest 2 rows stay"
        );
        assert_eq!(
            changes(&conn, 2, &Query::default(), 100).unwrap().len(),
            1,
            "other bindings keep theirs"
        );
    }
}
