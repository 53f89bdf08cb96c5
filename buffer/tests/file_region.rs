//! FileRegion behaviour against real files: range checks, pread chunks, a file
//! truncated under a region, mapped chunks of a sealed memfd, zero-length regions,
//! and the progress observer.

use std::fs::File;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::sys::memfd::{MFdFlags, memfd_create};
use seine_buffer::{BufferError, Bytes, FileRegion, map_file};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn temp_file(data: &[u8]) -> File {
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(data).unwrap();
    f
}

/// A memfd holding `data`, sealed against shrinking, growing and writing: the only
/// kind of file the safe mapping functions accept.
fn sealed_memfd(data: &[u8]) -> File {
    let fd = memfd_create(
        "seine-test",
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )
    .unwrap();
    let mut f = File::from(fd);
    f.write_all(data).unwrap();
    let seals = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_WRITE;
    fcntl(&f, FcntlArg::F_ADD_SEALS(seals)).unwrap();
    f
}

fn concat(chunks: &[Bytes]) -> Vec<u8> {
    chunks.iter().flat_map(|c| c.iter().copied()).collect()
}

#[test]
fn range_checks() {
    let file = Arc::new(temp_file(&pattern(1000)));
    assert!(FileRegion::new(file.clone(), 0, 1000).is_ok());
    assert!(FileRegion::new(file.clone(), 1000, 0).is_ok());
    assert!(FileRegion::new(file.clone(), 999, 1).is_ok());
    for (position, count) in [
        (0, 1001),
        (1000, 1),
        (1001, 0),
        (u64::MAX, 2),
        (2, u64::MAX),
    ] {
        let err = FileRegion::new(file.clone(), position, count).unwrap_err();
        assert!(
            matches!(err, BufferError::RangePastEnd { position: p, count: c, file_len: 1000 } if p == position && c == count),
            "{err:?}"
        );
        assert!(err.to_string().contains("1000-byte file"));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, pattern(10)).unwrap();
    assert_eq!(FileRegion::open(&path).unwrap().count(), 10);
    assert_eq!(FileRegion::open_range(&path, 4, 6).unwrap().position(), 4);
    assert!(matches!(
        FileRegion::open_range(&path, 4, 7),
        Err(BufferError::RangePastEnd { .. })
    ));
    let missing = FileRegion::open(dir.path().join("missing")).unwrap_err();
    assert!(matches!(missing, BufferError::Io { op: "open", .. }));
    assert!(std::error::Error::source(&missing).is_some());
}

#[test]
fn pread_chunks_of_a_temp_file() {
    let data = pattern(100_000);
    let region = FileRegion::new(Arc::new(temp_file(&data)), 1_000, 90_000).unwrap();
    let chunks: Vec<Bytes> = region
        .pread_chunks(16 * 1024)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(chunks.len(), 6);
    assert!(chunks[..5].iter().all(|c| c.len() == 16 * 1024));
    assert_eq!(concat(&chunks), data[1_000..91_000]);

    // Driven the way a transport drives it: read a chunk, write it, advance.
    let mut region = region;
    let mut out = Vec::new();
    while !region.is_done() {
        let chunk = region.read_chunk(7_777).unwrap();
        out.extend_from_slice(&chunk[..chunk.len() / 2 + 1]); // a short write
        region.advance((chunk.len() / 2 + 1) as u64);
    }
    assert_eq!(out, data[1_000..91_000]);
    assert_eq!(region.current_position(), 91_000);
    assert_eq!(region.pread_chunks(10).count(), 0);
}

#[test]
fn clones_share_the_file_and_read_independently() {
    let data = pattern(10_000);
    let region = FileRegion::from_file(temp_file(&data)).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let mut r = region.clone();
            r.advance(i * 1000);
            std::thread::spawn(move || {
                let chunks: Vec<Bytes> = r.pread_chunks(333).collect::<Result<_, _>>().unwrap();
                concat(&chunks)
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        assert_eq!(t.join().unwrap(), data[i * 1000..]);
    }
    assert_eq!(Arc::strong_count(region.file()), 1);
}

#[test]
fn truncated_file_fails_with_file_shrank() {
    let data = pattern(64 * 1024);
    let file = temp_file(&data);
    let region =
        FileRegion::new(Arc::new(file.try_clone().unwrap()), 0, data.len() as u64).unwrap();
    let mut chunks = region.pread_chunks(16 * 1024);
    assert_eq!(chunks.next().unwrap().unwrap().len(), 16 * 1024);
    file.set_len(20_000).unwrap(); // shrinks under the region

    let err = chunks.next().unwrap().unwrap_err();
    match err {
        BufferError::FileShrank {
            position,
            expected,
            available,
        } => {
            assert_eq!(position, 20_000);
            assert_eq!(expected, 64 * 1024 - 20_000);
            assert_eq!(available, 0);
        }
        other => panic!("{other:?}"),
    }
    assert!(chunks.next().is_none(), "the iterator ends after an error");

    // read_chunk reports the same, and so does a region created before the cut
    // that starts past the new end.
    assert!(matches!(
        region.read_chunk(usize::MAX),
        Err(BufferError::FileShrank { .. })
    ));
    let mut late = region.clone();
    late.advance(30_000);
    assert!(matches!(
        late.read_chunk(10),
        Err(BufferError::FileShrank {
            position: 30_000,
            available: 0,
            ..
        })
    ));
    // Truncated to nothing: still an error, not a hang.
    file.set_len(0).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let r = region.clone();
    std::thread::spawn(move || tx.send(r.pread_chunks(4096).collect::<Vec<_>>()).unwrap());
    let results = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("pread_chunks hung");
    assert_eq!(results.len(), 1);
    assert!(results[0].is_err());
}

#[test]
fn mapped_chunks_share_one_mapping() {
    let data = pattern(5 * 4096 + 123);
    let mut region = FileRegion::from_file(sealed_memfd(&data)).unwrap();
    let chunks: Vec<Bytes> = region.mapped_chunks(4096).unwrap().collect();
    assert_eq!(chunks.len(), 6);
    assert_eq!(concat(&chunks), data);
    for pair in chunks.windows(2) {
        // Adjacent views of one allocation: no copy.
        assert_eq!(
            pair[1].as_ptr(),
            pair[0].as_ptr().wrapping_add(pair[0].len())
        );
    }

    // From an unaligned current position: the mapping is page-aligned internally.
    region.advance(5_000);
    let chunks: Vec<Bytes> = region.mapped_chunks(10_000).unwrap().collect();
    assert_eq!(chunks.len(), 2);
    assert_eq!(concat(&chunks), data[5_000..]);

    // The chunks outlive the iterator and the region.
    let first = region.mapped_chunks(100).unwrap().next().unwrap();
    drop(region);
    assert_eq!(&first[..], &data[5_000..5_100]);
}

#[test]
fn map_file_of_a_sealed_memfd() {
    let data = pattern(10_000);
    let file = sealed_memfd(&data);
    let b = map_file(&file, 4097, 3000).unwrap();
    assert_eq!(&b[..], &data[4097..7097]);
    assert!(matches!(
        map_file(&file, 9_000, 1_001),
        Err(BufferError::RangePastEnd { .. })
    ));
}

#[test]
fn unsealed_files_are_not_mapped() {
    let region = FileRegion::from_file(temp_file(&pattern(5000))).unwrap();
    let err = region.mapped_chunks(4096).unwrap_err();
    assert!(
        matches!(
            err,
            BufferError::MapRefused {
                position: 0,
                count: 5000
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("pread_chunks"));
}

#[test]
fn mapped_chunks_report_a_file_already_shorter() {
    let file = temp_file(&pattern(5000));
    let region = FileRegion::new(Arc::new(file.try_clone().unwrap()), 0, 5000).unwrap();
    file.set_len(100).unwrap();
    assert!(matches!(
        region.mapped_chunks(4096),
        Err(BufferError::FileShrank {
            position: 0,
            expected: 5000,
            available: 100
        })
    ));
}

#[test]
fn zero_length_regions_yield_nothing() {
    let empty = FileRegion::from_file(tempfile::tempfile().unwrap()).unwrap();
    assert!(empty.is_done());
    assert_eq!(empty.remaining(), 0);
    assert!(empty.read_chunk(100).unwrap().is_empty());
    assert_eq!(empty.pread_chunks(100).count(), 0);
    // No mmap at all (a zero-length mapping is an error), even for unsealed files.
    assert_eq!(empty.mapped_chunks(100).unwrap().count(), 0);

    let file = Arc::new(temp_file(&pattern(100)));
    let at_end = FileRegion::new(file, 100, 0).unwrap();
    assert_eq!(at_end.pread_chunks(0).count(), 0);
    assert_eq!(at_end.mapped_chunks(0).unwrap().count(), 0);
    assert!(map_file(&temp_file(b"x"), 1, 0).unwrap().is_empty());
}

#[test]
fn progress_observer_from_another_thread() {
    let region = FileRegion::from_file(temp_file(&pattern(10_000))).unwrap();
    let (mut region, progress) = region.with_progress();
    assert_eq!((progress.transferred(), progress.count()), (0, 10_000));

    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let watcher = {
        let progress = progress.clone();
        std::thread::spawn(move || {
            let mut last = 0;
            while !progress.is_done() {
                let now = progress.transferred();
                assert!(now >= last, "progress never goes back");
                last = now;
                std::thread::yield_now();
            }
            seen_tx.send(progress.transferred()).unwrap();
        })
    };
    while !region.is_done() {
        let chunk = region.read_chunk(1000).unwrap();
        region.advance(chunk.len() as u64);
    }
    region.advance(5); // saturates
    assert_eq!(
        seen_rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        10_000
    );
    watcher.join().unwrap();

    // Clones publish to the same observer.
    let mut clone = region.clone();
    clone.advance(0);
    assert_eq!(progress.transferred(), 10_000);
}

#[test]
fn mapped_chunks_unchecked_maps_an_ordinary_file_at_an_unaligned_offset() {
    use std::io::Write;
    let mut file = tempfile::tempfile().unwrap();
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    file.write_all(&data).unwrap();
    let region = seine_buffer::FileRegion::new(std::sync::Arc::new(file), 1234, 15_000).unwrap();
    // SAFETY: the test owns the file and neither truncates nor writes it while
    // the chunks live.
    let chunks: Vec<_> = unsafe { region.mapped_chunks_unchecked(4096) }
        .unwrap()
        .collect();
    let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
    assert_eq!(joined, &data[1234..1234 + 15_000]);
    for pair in chunks.windows(2) {
        assert_eq!(pair[1].as_ptr(), pair[0][pair[0].len()..].as_ptr());
    }
}
