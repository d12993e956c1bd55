//! Following a directory that a detector is still writing into.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::{FrameName, FrameSource, IndexedFrame, InputError, frame_files, natural_sort};

/// Settings of [`Watcher`].
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The directory the detector writes into.
    pub dir: PathBuf,
    /// Frames of the scan: the watch yields indices `0..expect` and then stops.
    pub expect: usize,
    /// Give up when no new frame has become ready for this long.
    pub timeout: Duration,
    /// How often the directory is listed.
    pub poll: Duration,
    /// A file that stays incomplete and does not change for this long is handed over anyway
    /// (it will be recorded as a failed frame, e.g. the detector stopped mid-write). A frame
    /// whose file is still absent this long after a later frame's file appeared is recorded
    /// as missing (or after [`timeout`](Self::timeout), if shorter).
    pub stall: Duration,
    /// The number in the name of the scan's first frame (index 0), e.g. `Some(1)` for a
    /// detector that counts from 1. `None`: detected, as the smallest number among the scan's
    /// files listed from the moment its first file is complete until number 0 shows up or
    /// [`stall`](Self::stall) has passed (a scan counted from 1 thus starts after the stall
    /// time; set the number to start at once, or when a resumed scan's first files are gone).
    pub first_number: Option<u64>,
    /// Index the frames in natural name order as they complete, even when their names carry
    /// numbers (numbers that are not frame numbers, e.g. time stamps).
    pub by_name: bool,
    /// The first `skip` frames of the scan are already done (resuming a run): they are
    /// neither waited for nor yielded, and the first frame yielded has index `skip`.
    pub skip: usize,
}

impl WatchOptions {
    /// Watches `dir` for `expect` frames with a 60 s timeout, 20 ms polling, 10 s stall, the
    /// first frame number detected and nothing skipped.
    pub fn new(dir: impl Into<PathBuf>, expect: usize) -> Self {
        WatchOptions {
            dir: dir.into(),
            expect,
            timeout: Duration::from_secs(60),
            poll: Duration::from_millis(20),
            stall: Duration::from_secs(10),
            first_number: None,
            by_name: false,
            skip: 0,
        }
    }
}

#[derive(Debug)]
struct Pending {
    len: u64,
    modified: Option<SystemTime>,
    since: Instant,
    complete: Option<bool>,
}

/// How file names map to indices, decided once the first frame is complete.
#[derive(Debug)]
enum Order {
    /// The names carry frame numbers, the first one is not settled yet: the smallest seen
    /// since the first file was complete (at the given time).
    Detecting(Template, Instant),
    /// The names carry frame numbers: index = number − first.
    Numbered(Template),
    /// The names carry no number (or [`WatchOptions::by_name`]): the natural name order of the
    /// files as they complete.
    Natural,
}

/// The scan's file names: `{prefix}{number}{suffix}`.
#[derive(Debug, Clone)]
struct Template {
    prefix: String,
    suffix: String,
    /// The number of index 0.
    first: u64,
    /// Digits of the zero-padded numbers seen (0: not padded).
    width: usize,
}

impl Template {
    /// The index of a file's frame and its zero-padded width (0: not padded), or why the file
    /// is not a frame of the scan.
    fn index_of(&self, path: &Path, expect: usize) -> Result<(usize, usize), String> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("the name is not UTF-8")?;
        let f = FrameName::parse(name).ok_or("no frame number in the name")?;
        if f.prefix != self.prefix || f.suffix != self.suffix {
            return Err(format!(
                "not named like the scan's frames ({}N{})",
                self.prefix, self.suffix
            ));
        }
        let n = f.number().ok_or("frame number too large")?;
        let end = self.first.saturating_add(expect as u64);
        if n < self.first || n >= end {
            return Err(format!(
                "frame number {n} outside the scan ({}..{end})",
                self.first
            ));
        }
        let width = if f.digits.len() > 1 && f.digits.starts_with('0') {
            f.digits.len()
        } else {
            0
        };
        Ok(((n - self.first) as usize, width))
    }

    /// The name frame `index` should have.
    fn name(&self, index: usize) -> String {
        let n = self.first.saturating_add(index as u64);
        format!("{}{n:0w$}{}", self.prefix, self.suffix, w = self.width)
    }
}

/// Yields the frames of a directory that a detector is writing, each at its index in the scan
/// and only once it is complete: its size has stopped changing between two polls and
/// [`cbf_format::CbfFile::is_complete`] accepts the bytes (every binary section's payload and
/// closing line present). A file that never completes is handed over after
/// [`WatchOptions::stall`] so that it is recorded as failed instead of blocking the scan.
///
/// A frame's index comes from its file name, never from the order the files arrive in: the
/// number in the name ([`frame_number`](super::frame_number)) less the number of the scan's
/// first frame ([`WatchOptions::first_number`]), so `scan_00042.cbf` is frame 42 of a scan
/// counted from 0 (when that number is detected, frames wait until it is settled). The names
/// are those most files share when the first one is complete (`scan_` + number + `.cbf`); a
/// file named otherwise, numbered outside the scan, or giving an index another file
/// already gives, is reported (`log::warn`) and skipped. When the names carry no number (or
/// [`WatchOptions::by_name`]), frames take their index in the order they complete, among the
/// files present at one time in natural name order, a ready file waiting for an earlier-named
/// one still being written.
///
/// Frames are yielded in index order: a complete frame waits for the earlier ones (the
/// watcher examines the 256 indices from the first one not yielded on; later files wait their
/// turn). A frame whose file is still absent [`WatchOptions::stall`] after a later
/// frame's file appeared is yielded as [`IndexedFrame::missing`], so that it becomes a failed
/// row at its index and the later frames keep theirs; it is skipped if it arrives after all.
///
/// The iterator ends after index `expect − 1`, or when nothing new has become ready for
/// [`WatchOptions::timeout`] ([`Watcher::timed_out`] then says so; the frames not yielded are
/// missing from the end of the scan, which a resumed run can add), or when the directory
/// cannot be listed any more ([`Watcher::error`]).
#[derive(Debug)]
pub struct Watcher {
    opts: WatchOptions,
    /// `None` until the first frame is complete.
    order: Option<Order>,
    /// Files done with (yielded, held or skipped): not looked at again.
    seen: HashSet<PathBuf>,
    pending: HashMap<PathBuf, Pending>,
    /// Natural order: complete frames, in the order they take their index.
    ready: VecDeque<PathBuf>,
    /// Numbered: complete frames waiting for an earlier one, by index.
    held: BTreeMap<usize, PathBuf>,
    /// Numbered: whether the last poll saw a file of index `next`, and one of a later index.
    head_present: bool,
    later_present: bool,
    /// Numbered: since when frame `next` has been absent while a later one is present.
    gap_since: Option<Instant>,
    /// Index of the next frame (natural order: counting the frames skipped).
    next: usize,
    count: usize,
    missing: Vec<usize>,
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
            order: opts.by_name.then_some(Order::Natural),
            next: 0,
            opts,
            seen: HashSet::new(),
            pending: HashMap::new(),
            ready: VecDeque::new(),
            held: BTreeMap::new(),
            head_present: false,
            later_present: false,
            gap_since: None,
            count: 0,
            missing: Vec::new(),
            last_progress: Instant::now(),
            timed_out: false,
            error: None,
        })
    }

    /// Whether the watch ended because nothing new arrived within the timeout.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// Frames yielded so far, missing ones included. (On a watcher held by value, `w.count()`
    /// is [`Iterator::count`]: write `Watcher::count(&w)`.)
    pub fn count(&self) -> usize {
        self.count
    }

    /// Indices yielded as missing so far, in order.
    pub fn missing(&self) -> &[usize] {
        &self.missing
    }

    /// The error that ended the watch early (directory vanished or unreadable), if any.
    pub fn error(&self) -> Option<&InputError> {
        self.error.as_ref()
    }

    /// One poll: lists the directory, decides how names map to indices once a first file is
    /// complete, and takes the complete files in.
    fn poll_once(&mut self) -> std::io::Result<()> {
        let mut names = frame_files(&self.opts.dir)?;
        names.retain(|p| !self.seen.contains(p));
        natural_sort(&mut names);
        let now = Instant::now();
        if self.order.is_none() {
            if !(names.iter().take(LOOKAHEAD)).any(|p| self.is_ready(p, now)) {
                return Ok(());
            }
            self.last_progress = now;
            self.order = Some(self.detect(&names, now));
        }
        match self.order.take() {
            Some(Order::Detecting(mut t, since)) => {
                t.first = smallest_number(&t, &names).map_or(t.first, |n| n.min(t.first));
                let wait = self.opts.stall.min(self.opts.timeout);
                if t.first > 0 && now.duration_since(since) < wait {
                    // Follow the files meanwhile: those complete are taken in at once.
                    for p in names.iter().take(LOOKAHEAD) {
                        self.is_ready(p, now);
                    }
                    self.order = Some(Order::Detecting(t, since));
                } else {
                    self.last_progress = now;
                    log::debug!(
                        "watch {}: frames {}N{}, N = {} is frame 0",
                        self.opts.dir.display(),
                        t.prefix,
                        t.suffix,
                        t.first
                    );
                    self.poll_numbered(&mut t, names, now);
                    self.order = Some(Order::Numbered(t));
                }
            }
            Some(Order::Numbered(mut t)) => {
                self.poll_numbered(&mut t, names, now);
                self.order = Some(Order::Numbered(t));
            }
            _ => {
                self.order = Some(Order::Natural);
                self.poll_natural(names, now);
            }
        }
        Ok(())
    }

    /// How names map to indices, from the files listed when the first one is complete: the
    /// naming most of them share (`prefix` + number + `suffix`, ties to the name first in
    /// natural order), or natural order if more of them carry no number.
    fn detect(&self, names: &[PathBuf], now: Instant) -> Order {
        let mut groups: Vec<(&str, &str, u64, usize)> = Vec::new();
        let mut unnumbered = 0;
        for p in names {
            let f = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(FrameName::parse);
            match f.and_then(|f| Some((f, f.number()?))) {
                Some((f, n)) => match groups
                    .iter_mut()
                    .find(|g| g.0 == f.prefix && g.1 == f.suffix)
                {
                    Some(g) => (g.2, g.3) = (g.2.min(n), g.3 + 1),
                    None => groups.push((f.prefix, f.suffix, n, 1)),
                },
                None => unnumbered += 1,
            }
        }
        // `max_by_key` keeps the last of equals: look from the end.
        let Some(&(prefix, suffix, smallest, count)) = groups.iter().rev().max_by_key(|g| g.3)
        else {
            return Order::Natural;
        };
        if unnumbered > count {
            return Order::Natural;
        }
        let t = Template {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
            first: self.opts.first_number.unwrap_or(smallest),
            width: 0,
        };
        match self.opts.first_number {
            Some(_) => Order::Numbered(t),
            None => Order::Detecting(t, now),
        }
    }

    /// Natural order: the ready files, in name order up to the first one that is not, join the
    /// ready queue (at most [`LOOKAHEAD`] files examined).
    fn poll_natural(&mut self, names: Vec<PathBuf>, now: Instant) {
        let mut blocked = false;
        for p in names.into_iter().take(LOOKAHEAD) {
            let ready = self.is_ready(&p, now);
            if ready && !blocked && self.next + self.ready.len() < self.opts.expect {
                self.pending.remove(&p);
                self.seen.insert(p.clone());
                self.ready.push_back(p);
                self.last_progress = now;
            } else {
                blocked = true;
            }
        }
    }

    /// Numbered: each file listed takes its index; the complete ones among the [`LOOKAHEAD`]
    /// indices from `next` are held until their turn. Files that are not frames of the scan,
    /// or that give an index already given, are skipped.
    fn poll_numbered(&mut self, t: &mut Template, names: Vec<PathBuf>, now: Instant) {
        self.next = self.next.max(self.opts.skip);
        let next = self.next;
        self.head_present = self.held.contains_key(&next);
        self.later_present = self.held.range(next + 1..).next().is_some();
        let mut listed = HashSet::new();
        for p in names {
            let index = match t.index_of(&p, self.opts.expect) {
                Ok((index, width)) => {
                    t.width = t.width.max(width);
                    index
                }
                Err(why) => {
                    self.skip_file(p, &why);
                    continue;
                }
            };
            if index < self.opts.skip {
                // Done by the run this one resumes.
                self.pending.remove(&p);
                self.seen.insert(p);
                continue;
            }
            if index < next {
                let why = if self.missing.binary_search(&index).is_ok() {
                    format!("frame {index} arrived after it was recorded as missing")
                } else {
                    format!("another file already gave frame {index}")
                };
                self.skip_file(p, &why);
                continue;
            }
            if self.held.contains_key(&index) || !listed.insert(index) {
                self.skip_file(p, &format!("another file already gives frame {index}"));
                continue;
            }
            if index == next {
                self.head_present = true;
            } else {
                self.later_present = true;
            }
            if index - next < LOOKAHEAD && self.is_ready(&p, now) {
                self.pending.remove(&p);
                self.seen.insert(p.clone());
                self.held.insert(index, p);
                self.last_progress = now;
            }
        }
    }

    fn skip_file(&mut self, p: PathBuf, why: &str) {
        log::warn!("watch: {}: {why}; skipped", p.display());
        self.pending.remove(&p);
        self.seen.insert(p);
    }

    /// The next frame if it is complete.
    fn take_ready(&mut self) -> Option<IndexedFrame> {
        let path = match self.order {
            Some(Order::Numbered(_)) => self.held.remove(&self.next)?,
            Some(Order::Natural) => loop {
                let p = self.ready.pop_front()?;
                if self.next >= self.opts.skip {
                    break p;
                }
                // Done by the run this one resumes.
                self.next += 1;
            },
            Some(Order::Detecting(..)) | None => return None,
        };
        let index = self.next;
        self.next += 1;
        self.count += 1;
        self.gap_since = None;
        self.last_progress = Instant::now();
        Some(IndexedFrame::new(index, FrameSource::File(path)))
    }

    /// The next frame as missing, when its file is absent while a later frame's file has
    /// been present for the stall time (numbered names only).
    fn take_missing(&mut self) -> Option<IndexedFrame> {
        let Some(Order::Numbered(t)) = &self.order else {
            return None;
        };
        if self.head_present || !self.later_present {
            self.gap_since = None;
            return None;
        }
        let now = Instant::now();
        // Not reset when a frame is recorded missing: the following ones, absent too, have
        // been waited for as long.
        let since = *self.gap_since.get_or_insert(now);
        let wait = self.opts.stall.min(self.opts.timeout);
        if now.duration_since(since) < wait {
            return None;
        }
        let index = self.next;
        let path = self.opts.dir.join(t.name(index));
        log::warn!(
            "watch: frame {index} ({}) missing: absent {:.1} s after later frames appeared; \
             recorded as failed",
            path.display(),
            wait.as_secs_f64()
        );
        self.next += 1;
        self.count += 1;
        self.missing.push(index);
        self.head_present = false;
        self.last_progress = now;
        Some(IndexedFrame::missing(index, FrameSource::File(path)))
    }

    fn is_ready(&mut self, p: &Path, now: Instant) -> bool {
        let Ok(meta) = std::fs::metadata(p) else {
            return false;
        };
        let (len, modified) = (meta.len(), meta.modified().ok());
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

/// The smallest frame number among `names` that are named like `t`.
fn smallest_number(t: &Template, names: &[PathBuf]) -> Option<u64> {
    names
        .iter()
        .filter_map(|p| FrameName::parse(p.file_name()?.to_str()?))
        .filter(|f| f.prefix == t.prefix && f.suffix == t.suffix)
        .filter_map(|f| f.number())
        .min()
}

/// Most files a poll of a [`Watcher`] examines for completeness: the indices from the first
/// frame not yielded on (numbered names), or the first files not yielded (natural order).
const LOOKAHEAD: usize = 256;

impl Iterator for Watcher {
    type Item = IndexedFrame;

    fn next(&mut self) -> Option<IndexedFrame> {
        loop {
            if self.next >= self.opts.expect || self.timed_out || self.error.is_some() {
                return None;
            }
            if let Some(frame) = self.take_ready() {
                return Some(frame);
            }
            if let Err(source) = self.poll_once() {
                self.error = Some(InputError::Io {
                    path: self.opts.dir.clone(),
                    source,
                });
                return None;
            }
            if let Some(frame) = self.take_ready().or_else(|| self.take_missing()) {
                return Some(frame);
            }
            // A frame waited for while later ones are there is settled within the timeout.
            if self.gap_since.is_none() && self.last_progress.elapsed() >= self.opts.timeout {
                self.timed_out = true;
                return None;
            }
            std::thread::sleep(self.opts.poll);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::SumReducer;
    use crate::engine::{MemorySink, Pipeline, PipelineOptions};

    /// The CBF bytes of test frame `seed`.
    fn cbf(seed: usize) -> Vec<u8> {
        match SumReducer::frame_source(seed, 8, 6) {
            FrameSource::Memory { bytes, .. } => bytes.to_vec(),
            _ => unreachable!(),
        }
    }

    fn opts(dir: &Path, expect: usize) -> WatchOptions {
        let mut o = WatchOptions::new(dir, expect);
        o.poll = Duration::from_millis(5);
        o.stall = Duration::from_millis(400);
        o.timeout = Duration::from_secs(20);
        o
    }

    /// Writes the files `(name, seed)` one after the other from another thread, `gap` apart,
    /// each in two halves (a detector still writing).
    fn write_later(
        dir: &Path,
        files: &[(&str, usize)],
        gap: Duration,
    ) -> std::thread::JoinHandle<()> {
        let dir = dir.to_path_buf();
        let files: Vec<(String, usize)> = files.iter().map(|(n, s)| (n.to_string(), *s)).collect();
        std::thread::spawn(move || {
            for (name, seed) in files {
                std::thread::sleep(gap);
                let bytes = cbf(seed);
                let mut f = std::fs::File::create(dir.join(&name)).unwrap();
                std::io::Write::write_all(&mut f, &bytes[..bytes.len() / 2]).unwrap();
                std::thread::sleep(gap / 4);
                std::io::Write::write_all(&mut f, &bytes[bytes.len() / 2..]).unwrap();
            }
        })
    }

    fn write_now(dir: &Path, files: &[(&str, usize)]) {
        for (name, seed) in files {
            std::fs::write(dir.join(name), cbf(*seed)).unwrap();
        }
    }

    /// `(index, file name, missing)` of each frame.
    fn yielded(w: &mut Watcher) -> Vec<(usize, String, bool)> {
        w.map(|f| {
            let FrameSource::File(p) = &f.source else {
                panic!("{f:?}")
            };
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (f.index, name, f.missing)
        })
        .collect()
    }

    fn frames(v: &[(usize, &str)]) -> Vec<(usize, String, bool)> {
        v.iter().map(|(i, n)| (*i, n.to_string(), false)).collect()
    }

    #[test]
    fn frames_take_their_index_from_the_file_number_not_the_arrival_order() {
        let dir = tempfile::tempdir().unwrap();
        let writer = write_later(
            dir.path(),
            &[
                ("scan_00003.cbf", 3),
                ("scan_00001.cbf", 1),
                ("scan_00002.cbf", 2),
                ("scan_00000.cbf", 0),
            ],
            Duration::from_millis(60),
        );
        let mut o = opts(dir.path(), 4);
        // Longer than the whole writing: the first number must wait for scan_00000.
        o.stall = Duration::from_secs(5);
        let mut w = Watcher::new(o).unwrap();
        let t = Instant::now();
        let got = yielded(&mut w);
        writer.join().unwrap();
        assert_eq!(
            got,
            frames(&[
                (0, "scan_00000.cbf"),
                (1, "scan_00001.cbf"),
                (2, "scan_00002.cbf"),
                (3, "scan_00003.cbf"),
            ])
        );
        // Number 0 settles the first number at once: no stall wait.
        assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
        assert!(!w.timed_out() && w.error().is_none() && w.missing().is_empty());
        assert_eq!(Watcher::count(&w), 4);
    }

    #[test]
    fn a_frame_that_never_arrives_is_a_failed_row_at_its_index() {
        let dir = tempfile::tempdir().unwrap();
        write_now(
            dir.path(),
            &[("f_0000.cbf", 0), ("f_0001.cbf", 1), ("f_0004.cbf", 4)],
        );
        // Frame 3 comes late, after frame 4: it still gets index 3.
        let writer = write_later(dir.path(), &[("f_0003.cbf", 3)], Duration::from_millis(100));
        let mut w = Watcher::new(opts(dir.path(), 5)).unwrap();
        let mut got = Vec::new();
        let reducer = SumReducer::new(3);
        let mut sink = MemorySink::default();
        let stats = Pipeline::new(&reducer, PipelineOptions::default())
            .run_indexed(
                w.by_ref().inspect(|f| got.push((f.index, f.missing))),
                0,
                &mut sink,
            )
            .unwrap();
        writer.join().unwrap();
        assert_eq!(
            got,
            [(0, false), (1, false), (2, true), (3, false), (4, false)]
        );
        assert_eq!(w.missing(), [2]);
        assert!(!w.timed_out());
        assert_eq!((stats.frames, stats.failed), (5, 1));
        assert_eq!(sink.failures, [(2, "file not found".to_string())]);
        let missing = dir.path().join("f_0002.cbf").display().to_string();
        assert_eq!(sink.sources[2], missing);
        assert_eq!(stats.failures[0].1, format!("{missing}: file not found"));
        for k in [0, 1, 3, 4] {
            let expected = reducer.reduce_pixels(&SumReducer::frame_pixels(k, 8, 6), 1.0);
            assert_eq!(sink.rows[k].as_ref(), Some(&expected), "row {k}");
        }
    }

    #[test]
    fn first_number_detected_and_strangers_out_of_range_and_duplicates_skipped() {
        let dir = tempfile::tempdir().unwrap();
        write_now(
            dir.path(),
            &[
                ("f_1.cbf", 1),
                ("f_2.cbf", 2),
                ("f_002.cbf", 2),
                ("f_3.cbf", 3),
                ("f_9.cbf", 9),
                ("dark_1.cbf", 0),
                ("notes.cbf", 0),
            ],
        );
        let mut w = Watcher::new(opts(dir.path(), 3)).unwrap();
        let t = Instant::now();
        // `f_002.cbf` sorts before `f_2.cbf` and takes frame 1.
        assert_eq!(
            yielded(&mut w),
            frames(&[(0, "f_1.cbf"), (1, "f_002.cbf"), (2, "f_3.cbf")])
        );
        // Counting from 1 is only settled after the stall time.
        assert!(t.elapsed() >= Duration::from_millis(400));
        assert!(!w.timed_out());

        // Set, the first number needs no wait; frames below `skip` are neither awaited nor
        // yielded.
        let mut o = opts(dir.path(), 3);
        o.first_number = Some(1);
        o.skip = 1;
        o.stall = Duration::from_secs(10);
        let t = Instant::now();
        let got = yielded(&mut Watcher::new(o).unwrap());
        assert_eq!(got, frames(&[(1, "f_002.cbf"), (2, "f_3.cbf")]));
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn names_without_numbers_go_in_natural_order() {
        let dir = tempfile::tempdir().unwrap();
        write_now(dir.path(), &[("c.cbf", 2), ("a.cbf", 0), ("b.cbf", 1)]);
        let got = yielded(&mut Watcher::new(opts(dir.path(), 3)).unwrap());
        assert_eq!(got, frames(&[(0, "a.cbf"), (1, "b.cbf"), (2, "c.cbf")]));
        // Resuming after two frames.
        let mut o = opts(dir.path(), 3);
        o.skip = 2;
        let got = yielded(&mut Watcher::new(o).unwrap());
        assert_eq!(got, frames(&[(2, "c.cbf")]));
        // Numbers that are not frame numbers.
        let dir = tempfile::tempdir().unwrap();
        write_now(dir.path(), &[("t_20240102.cbf", 1), ("t_20231231.cbf", 0)]);
        let mut o = opts(dir.path(), 2);
        o.by_name = true;
        let got = yielded(&mut Watcher::new(o).unwrap());
        assert_eq!(got, frames(&[(0, "t_20231231.cbf"), (1, "t_20240102.cbf")]));
    }

    #[test]
    fn a_scan_that_stops_early_times_out_without_inventing_its_end() {
        let dir = tempfile::tempdir().unwrap();
        write_now(dir.path(), &[("f_00.cbf", 0), ("f_01.cbf", 1)]);
        let mut o = opts(dir.path(), 4);
        o.timeout = Duration::from_millis(300);
        let mut w = Watcher::new(o).unwrap();
        assert_eq!(yielded(&mut w), frames(&[(0, "f_00.cbf"), (1, "f_01.cbf")]));
        assert!(w.timed_out() && w.missing().is_empty());
        let gone = dir.path().join("gone");
        std::fs::create_dir(&gone).unwrap();
        let mut w = Watcher::new(opts(&gone, 1)).unwrap();
        std::fs::remove_dir(&gone).unwrap();
        assert!(w.next().is_none());
        assert!(matches!(w.error(), Some(InputError::Io { .. })));
    }
}
