//! Following a directory that a detector is still writing into.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{FrameSource, InputError, frame_files, natural_sort};

/// Settings of [`Watcher`].
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The directory the detector writes into.
    pub dir: PathBuf,
    /// Stop after this many frames.
    pub expect: usize,
    /// Give up when no new frame has become ready for this long.
    pub timeout: Duration,
    /// How often the directory is listed.
    pub poll: Duration,
    /// A file that stays incomplete and does not change for this long is handed over anyway
    /// (it will be recorded as a failed frame, e.g. the detector stopped mid-write).
    pub stall: Duration,
}

impl WatchOptions {
    /// Watches `dir` for `expect` frames with a 60 s timeout, 20 ms polling, 10 s stall.
    pub fn new(dir: impl Into<PathBuf>, expect: usize) -> Self {
        WatchOptions {
            dir: dir.into(),
            expect,
            timeout: Duration::from_secs(60),
            poll: Duration::from_millis(20),
            stall: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
struct Pending {
    len: u64,
    modified: Option<std::time::SystemTime>,
    since: Instant,
    complete: Option<bool>,
}

/// Yields the frames of a directory that a detector is writing, in natural order, each only
/// once it is complete: its size has stopped changing between two polls and
/// [`cbf_format::CbfFile::is_complete`] accepts the bytes (every binary section's payload and
/// closing line present). A file that never completes is handed over after
/// [`WatchOptions::stall`] so that it is recorded as failed instead of blocking the scan.
///
/// Frames are indexed in the order they become complete, which is the scan order for a
/// detector writing its files one after the other; among the files present at one time the
/// order is the natural name order, and a ready file waits for an earlier-named one still being
/// written. The iterator ends after [`WatchOptions::expect`] frames, or when nothing new has
/// become ready for [`WatchOptions::timeout`] ([`Watcher::timed_out`] then says so).
#[derive(Debug)]
pub struct Watcher {
    opts: WatchOptions,
    handed: HashSet<PathBuf>,
    ready: std::collections::VecDeque<PathBuf>,
    pending: HashMap<PathBuf, Pending>,
    count: usize,
    last_progress: Instant,
    timed_out: bool,
    error: Option<InputError>,
}

impl Watcher {
    /// Starts watching (the directory must exist; it may be empty).
    pub fn new(opts: WatchOptions) -> Result<Self, InputError> {
        std::fs::read_dir(&opts.dir).map_err(|source| InputError::Io {
            path: opts.dir.clone(),
            source,
        })?;
        Ok(Watcher {
            opts,
            handed: HashSet::new(),
            ready: Default::default(),
            pending: HashMap::new(),
            count: 0,
            last_progress: Instant::now(),
            timed_out: false,
            error: None,
        })
    }

    /// Whether the watch ended because nothing new arrived within the timeout.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// Frames handed over so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The error that ended the watch early (directory vanished or unreadable), if any.
    pub fn error(&self) -> Option<&InputError> {
        self.error.as_ref()
    }

    /// One poll: lists the directory, checks up to [`LOOKAHEAD`] files not handed over yet, and
    /// moves the ready ones, in name order up to the first one that is not, to the ready queue.
    fn poll_once(&mut self) -> std::io::Result<()> {
        let mut names = frame_files(&self.opts.dir)?;
        names.retain(|p| !self.handed.contains(p));
        natural_sort(&mut names);
        let mut blocked = false;
        for p in names.into_iter().take(LOOKAHEAD) {
            let ready = self.is_ready(&p);
            if ready && !blocked && self.count + self.ready.len() < self.opts.expect {
                self.pending.remove(&p);
                self.handed.insert(p.clone());
                self.ready.push_back(p);
            } else {
                blocked = true;
            }
        }
        Ok(())
    }

    fn is_ready(&mut self, p: &Path) -> bool {
        let Ok(meta) = std::fs::metadata(p) else {
            return false;
        };
        let (len, modified) = (meta.len(), meta.modified().ok());
        let now = Instant::now();
        let st = self.pending.entry(p.to_path_buf()).or_insert(Pending {
            len,
            modified,
            since: now,
            complete: None,
        });
        if st.len != len || st.modified != modified {
            *st = Pending {
                len,
                modified,
                since: now,
                complete: None,
            };
        }
        if st.since == now {
            // First sight of this size: wait one poll to see whether it still grows.
            return false;
        }
        let complete = *st.complete.get_or_insert_with(|| {
            len > 0
                && std::fs::read(p)
                    .map(|b| cbf_format::CbfFile::is_complete(&b))
                    .unwrap_or(false)
        });
        // Incomplete but unchanged: hand it over once it has been stuck for the stall time.
        complete || now.duration_since(st.since) >= self.opts.stall
    }
}

/// Most files not yet handed over that one poll of a [`Watcher`] examines.
const LOOKAHEAD: usize = 256;

impl Iterator for Watcher {
    type Item = FrameSource;

    fn next(&mut self) -> Option<FrameSource> {
        loop {
            if self.count >= self.opts.expect || self.timed_out || self.error.is_some() {
                return None;
            }
            if let Some(p) = self.ready.pop_front() {
                self.count += 1;
                self.last_progress = Instant::now();
                return Some(FrameSource::File(p));
            }
            if let Err(source) = self.poll_once() {
                self.error = Some(InputError::Io {
                    path: self.opts.dir.clone(),
                    source,
                });
                return None;
            }
            if self.ready.is_empty() {
                if self.last_progress.elapsed() >= self.opts.timeout {
                    self.timed_out = true;
                    return None;
                }
                std::thread::sleep(self.opts.poll);
            }
        }
    }
}
