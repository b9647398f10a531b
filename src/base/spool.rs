//! Bytes held back until later (a JUnit suite's cases until its counts, SARIF results
//! until its rules table, a later namespace's records): kept in memory up to a bound,
//! then in an unnamed temporary file, so a long run's memory stays flat.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

/// Bytes kept in memory before a spilling spool moves to a temporary file.
const MEMORY_LIMIT: usize = 1 << 20;

/// Held-back bytes.
pub struct Spool {
    memory: Vec<u8>,
    file: Option<BufWriter<File>>,
    spill: bool,
}

impl Spool {
    /// An empty spool; with `spill`, text beyond [`MEMORY_LIMIT`] goes to a temporary file.
    pub fn new(spill: bool) -> Self {
        Spool {
            memory: Vec::new(),
            file: None,
            spill,
        }
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(f) = &mut self.file {
            return f.write_all(bytes);
        }
        self.memory.extend_from_slice(bytes);
        if self.spill && self.memory.len() > MEMORY_LIMIT {
            let mut f = BufWriter::new(tempfile::tempfile()?);
            f.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(f);
        }
        Ok(())
    }

    /// Everything held, to read from the start.
    pub fn into_reader(self) -> io::Result<Box<dyn io::BufRead>> {
        Ok(match self.file {
            Some(f) => {
                let mut f = f.into_inner().map_err(|e| e.into_error())?;
                f.seek(SeekFrom::Start(0))?;
                Box::new(io::BufReader::new(f))
            }
            None => Box::new(io::Cursor::new(self.memory)),
        })
    }

    /// Writes everything held to `out` and empties the spool.
    pub fn drain_to(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let spool = std::mem::replace(self, Spool::new(self.spill));
        io::copy(&mut spool.into_reader()?, out)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_past_the_bound_and_gives_back_every_byte() {
        let mut s = Spool::new(true);
        let chunk: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
        for _ in 0..5 {
            s.write(&chunk).unwrap();
        }
        assert!(s.file.is_some() && s.memory.is_empty());
        let mut out = Vec::new();
        s.drain_to(&mut out).unwrap();
        assert_eq!(out.len(), 1_500_000);
        assert!(out.chunks(300_000).all(|c| c == chunk.as_slice()));
    }

    #[test]
    fn without_spill_stays_in_memory() {
        let mut s = Spool::new(false);
        s.write(&vec![b'x'; MEMORY_LIMIT + 10]).unwrap();
        assert!(s.file.is_none());
        let mut out = Vec::new();
        s.drain_to(&mut out).unwrap();
        assert_eq!(out.len(), MEMORY_LIMIT + 10);
    }
}
