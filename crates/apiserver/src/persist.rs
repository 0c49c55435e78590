//! Persistence under a state directory: a snapshot and an append-only log of checksummed records.
//!
//! # Format
//!
//! Both files are sequences of records: a little-endian `u32` payload length, the CRC-32 of the
//! payload as a little-endian `u32`, then the payload, which is JSON.
//!
//! - `snapshot`: a header record `{"format":1,"revision":N,"objects":COUNT}`, then one record
//!   `{"key":[group,resource,namespace,name],"object":{…}}` per object. It is written to
//!   `snapshot.tmp`, flushed to disk, renamed over `snapshot`, and the directory is flushed: a
//!   reader sees the old snapshot or the new one, never a mix. A snapshot that does not check out
//!   is refused, since the rename makes a torn one impossible short of disk damage.
//! - `log`: one record per request that wrote, `{"from":F,"to":T,"ops":[{"put":[key,object]} |
//!   {"del":key}]}`, appended and flushed (`fsync`) before the reply is sent. A request's writes
//!   are one record, so they come back all or none.
//!
//! Opening reads the snapshot, then replays the log records that follow it. The first record that
//! is cut short, fails its checksum, does not parse, or does not continue from the revision before
//! it ends the log: the file is truncated there, and what came before — the last good state — is
//! served. A crash can only tear the last append, so nothing acknowledged is lost when `fsync` is
//! on. When the log outgrows the snapshot, the snapshot is rewritten and the log emptied
//! (compaction); log records the new snapshot already covers are skipped on replay, so a crash
//! between the two steps is harmless.
//!
//! A `lock` file, locked exclusively while the server is open, keeps a second process out.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::store::{Batch, Key, Store};
use crate::stored::Stored;

/// How many times (20 ms apart) a busy lock is tried again before `Locked`.
const LOCK_RETRIES: u32 = 25;
const SNAPSHOT: &str = "snapshot";
const SNAPSHOT_TMP: &str = "snapshot.tmp";
const LOG: &str = "log";
const LOCK: &str = "lock";
const FORMAT: u32 = 1;
/// Records larger than this are taken for corruption (bodies are capped far below it).
const MAX_RECORD: usize = 1 << 30;
/// The log is compacted once it is larger than this and than twice the snapshot.
const COMPACT_AFTER: u64 = 4 << 20;

/// Why a state directory cannot be opened or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The snapshot does not check out (a checksum, the format, or the object count).
    #[error("{}: the snapshot is corrupt: {detail}", path.display())]
    Corrupt {
        /// The snapshot file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// Another process has the directory open.
    #[error("{}: the state directory is in use by another process", path.display())]
    Locked {
        /// The directory.
        path: PathBuf,
    },
}

/// What opening a state directory found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// The resourceVersion the state was restored at.
    pub revision: u64,
    /// How many objects were restored.
    pub objects: usize,
    /// How many log records were replayed on top of the snapshot.
    pub replayed: usize,
    /// How many bytes at the end of the log were cut off as torn or corrupt (0 after a clean stop).
    pub discarded_bytes: u64,
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    revision: u64,
    objects: usize,
}

type KeyParts = (String, String, String, String);

#[derive(Serialize, Deserialize)]
struct Entry {
    key: KeyParts,
    object: Value,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Op {
    Put(KeyParts, Value),
    Del(KeyParts),
}

#[derive(Serialize, Deserialize)]
struct LogRecord {
    from: u64,
    to: u64,
    ops: Vec<Op>,
}

/// Borrowed twins of the records, to write without cloning objects.
#[derive(Serialize)]
struct EntryRef<'a> {
    key: (&'a str, &'a str, &'a str, &'a str),
    object: &'a RawValue,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum OpRef<'a> {
    Put((&'a str, &'a str, &'a str, &'a str), &'a RawValue),
    Del((&'a str, &'a str, &'a str, &'a str)),
}

#[derive(Serialize)]
struct LogRecordRef<'a> {
    from: u64,
    to: u64,
    ops: Vec<OpRef<'a>>,
}

fn key_ref(key: &Key) -> (&str, &str, &str, &str) {
    (&key.group, &key.resource, &key.namespace, &key.name)
}

fn key_of((group, resource, namespace, name): KeyParts) -> Key {
    Key { group, resource, namespace, name }
}

/// An open state directory.
#[derive(Debug)]
pub(crate) struct Durable {
    dir: PathBuf,
    log: File,
    log_bytes: u64,
    snapshot_bytes: u64,
    fsync: bool,
    _lock: File,
}

impl Durable {
    /// Opens (creating when needed) `dir`, and returns it with the restored store, or `None` for
    /// the store when the directory holds no state yet.
    pub(crate) fn open(dir: &Path, fsync: bool) -> Result<(Durable, Option<Store>, Recovery), StateError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StateError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join(LOCK);
        let lock =
            OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
        // A process forked elsewhere in this program (a test spawning kubectl, say) shares the
        // lock of a server just dropped until it execs, so a busy lock is retried briefly.
        let mut attempts = 0;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if attempts < LOCK_RETRIES => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(StateError::Locked { path: dir.to_path_buf() });
                }
                Err(std::fs::TryLockError::Error(source)) => return Err(StateError::Io { path: lock_path, source }),
            }
        }
        let tmp = dir.join(SNAPSHOT_TMP);
        if tmp.exists() {
            std::fs::remove_file(&tmp).map_err(io(&tmp))?;
        }
        let snapshot_path = dir.join(SNAPSHOT);
        let (mut objects, mut revision, snapshot_bytes, had_snapshot) = match std::fs::read(&snapshot_path) {
            Ok(bytes) => {
                let (objects, revision) = read_snapshot(&bytes, &snapshot_path)?;
                (objects, revision, bytes.len() as u64, true)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => (BTreeMap::new(), 0, 0, false),
            Err(source) => return Err(StateError::Io { path: snapshot_path, source }),
        };
        let log_path = dir.join(LOG);
        let mut log = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&log_path)
            .map_err(io(&log_path))?;
        let mut bytes = Vec::new();
        log.read_to_end(&mut bytes).map_err(io(&log_path))?;
        let mut replayed = 0;
        let mut good = 0;
        let mut offset = 0;
        while let Some((payload, next)) = next_record(&bytes, offset) {
            let Ok(record) = serde_json::from_slice::<LogRecord>(payload) else { break };
            if record.to <= revision && had_snapshot {
                // Already in the snapshot: compaction stopped before emptying the log.
            } else if record.from == revision {
                for op in record.ops {
                    match op {
                        Op::Put(key, object) => objects.insert(key_of(key), Arc::new(Stored::new(&object))),
                        Op::Del(key) => objects.remove(&key_of(key)),
                    };
                }
                revision = record.to;
                replayed += 1;
            } else {
                break;
            }
            offset = next;
            good = next;
        }
        let discarded_bytes = (bytes.len() - good) as u64;
        if discarded_bytes > 0 {
            log.set_len(good as u64).map_err(io(&log_path))?;
            log.sync_all().map_err(io(&log_path))?;
        }
        let recovery = Recovery { revision, objects: objects.len(), replayed, discarded_bytes };
        let store = (had_snapshot || replayed > 0).then(|| Store::restored(objects, revision));
        let durable =
            Durable { dir: dir.to_path_buf(), log, log_bytes: good as u64, snapshot_bytes, fsync, _lock: lock };
        Ok((durable, store, recovery))
    }

    /// Appends one request's writes to the log, flushed before this returns. On failure the log
    /// is cut back to where it was, and the caller must undo the batch.
    pub(crate) fn append(&mut self, batch: &Batch) -> Result<(), StateError> {
        if batch.changes.is_empty() && batch.from == batch.to {
            return Ok(());
        }
        let ops = batch
            .changes
            .iter()
            .map(|change| match &change.new {
                Some(object) => OpRef::Put(key_ref(&change.key), object.raw()),
                None => OpRef::Del(key_ref(&change.key)),
            })
            .collect();
        let record = LogRecordRef { from: batch.from, to: batch.to, ops };
        let framed = frame(&record);
        let path = self.dir.join(LOG);
        let written = self.log.write_all(&framed).and_then(|()| if self.fsync { self.log.sync_data() } else { Ok(()) });
        if let Err(source) = written {
            // Best effort: a half-written record would be cut off on the next open anyway.
            let _ = self.log.set_len(self.log_bytes);
            return Err(StateError::Io { path, source });
        }
        self.log_bytes += framed.len() as u64;
        Ok(())
    }

    /// Whether the log has grown enough to be folded into a new snapshot.
    pub(crate) fn wants_compaction(&self) -> bool {
        self.log_bytes > COMPACT_AFTER && self.log_bytes > 2 * self.snapshot_bytes
    }

    /// Writes `store` as the new snapshot and empties the log.
    pub(crate) fn compact(&mut self, store: &Store) -> Result<(), StateError> {
        self.snapshot_bytes = write_snapshot(&self.dir, store, self.fsync)?;
        let path = self.dir.join(LOG);
        let io = |source| StateError::Io { path: path.clone(), source };
        self.log.set_len(0).map_err(io)?;
        if self.fsync {
            self.log.sync_all().map_err(io)?;
        }
        self.log_bytes = 0;
        Ok(())
    }
}

/// Writes a snapshot of `store` atomically; returns its size.
pub(crate) fn write_snapshot(dir: &Path, store: &Store, fsync: bool) -> Result<u64, StateError> {
    let tmp = dir.join(SNAPSHOT_TMP);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StateError::Io { path, source }
    };
    let count = store.iter().count();
    let mut out = frame(&Header { format: FORMAT, revision: store.revision(), objects: count });
    for (key, object) in store.iter() {
        out.extend(frame(&EntryRef { key: key_ref(key), object: object.raw() }));
    }
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(&out).map_err(io(&tmp))?;
    if fsync {
        file.sync_all().map_err(io(&tmp))?;
    }
    drop(file);
    let target = dir.join(SNAPSHOT);
    std::fs::rename(&tmp, &target).map_err(io(&target))?;
    if fsync {
        // The rename is durable only once the directory is.
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    }
    Ok(out.len() as u64)
}

fn read_snapshot(bytes: &[u8], path: &Path) -> Result<(BTreeMap<Key, Arc<Stored>>, u64), StateError> {
    let corrupt = |detail: String| StateError::Corrupt { path: path.to_path_buf(), detail };
    let (payload, mut offset) = next_record(bytes, 0).ok_or_else(|| corrupt("no valid header record".into()))?;
    let header: Header = serde_json::from_slice(payload).map_err(|e| corrupt(format!("the header: {e}")))?;
    if header.format != FORMAT {
        return Err(corrupt(format!("format {} is not {FORMAT}", header.format)));
    }
    let mut objects = BTreeMap::new();
    while offset < bytes.len() {
        let (payload, next) = next_record(bytes, offset)
            .ok_or_else(|| corrupt(format!("the record at byte {offset} is torn or fails its checksum")))?;
        let entry: Entry =
            serde_json::from_slice(payload).map_err(|e| corrupt(format!("the record at byte {offset}: {e}")))?;
        objects.insert(key_of(entry.key), Arc::new(Stored::new(&entry.object)));
        offset = next;
    }
    if objects.len() != header.objects {
        return Err(corrupt(format!("{} objects where the header promises {}", objects.len(), header.objects)));
    }
    Ok((objects, header.revision))
}

/// Length, checksum, payload.
fn frame<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain structs of strings and JSON values cannot fail.
    let payload = serde_json::to_vec(value).unwrap_or_default();
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// The payload of the record at `offset` and the offset after it, if the record is whole and
/// its checksum holds.
fn next_record(bytes: &[u8], offset: usize) -> Option<(&[u8], usize)> {
    let header = bytes.get(offset..offset.checked_add(8)?)?;
    let length = usize::try_from(u32::from_le_bytes(header.get(..4)?.try_into().ok()?)).ok()?;
    let checksum = u32::from_le_bytes(header.get(4..8)?.try_into().ok()?);
    if length > MAX_RECORD {
        return None;
    }
    let start = offset + 8;
    let payload = bytes.get(start..start.checked_add(length)?)?;
    (crc32fast::hash(payload) == checksum).then_some((payload, start + length))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn records_round_trip_and_detect_damage() {
        let mut bytes = frame(&json!({"a": 1}));
        bytes.extend(frame(&json!({"b": 2})));
        let (first, next) = next_record(&bytes, 0).expect("a first record");
        assert_eq!(first, br#"{"a":1}"#);
        let (second, end) = next_record(&bytes, next).expect("a second record");
        assert_eq!(second, br#"{"b":2}"#);
        assert_eq!(end, bytes.len());
        assert!(next_record(&bytes[..bytes.len() - 1], next).is_none(), "a torn record");
        let mut flipped = bytes.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 1;
        assert!(next_record(&flipped, next).is_none(), "a failed checksum");
        assert!(next_record(&bytes, end).is_none(), "the end");
    }
}
