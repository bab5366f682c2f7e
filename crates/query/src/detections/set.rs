//! The set of detections a session runs: the built-in ones, a user's directory on top
//! (a file with a built-in id replaces that detection), narrowed to some ids.

use std::path::Path;

use super::registry::{Detection, builtin, findings_sql, load_dir};
use crate::{Error, Result};

/// Detections with unique ids, sorted by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectionSet {
    detections: Vec<Detection>,
}

impl Default for DetectionSet {
    fn default() -> Self {
        DetectionSet::builtin()
    }
}

impl DetectionSet {
    /// The built-in detections.
    pub fn builtin() -> DetectionSet {
        DetectionSet {
            detections: builtin(),
        }
    }

    /// These detections, which must have unique ids.
    pub fn new(mut detections: Vec<Detection>) -> Result<DetectionSet> {
        detections.sort_by(|a, b| a.id.cmp(&b.id));
        findings_sql(&detections)?;
        Ok(DetectionSet { detections })
    }

    /// Adds the detections of `dir` (`*.sql` with their header); one with the id of a
    /// detection already here replaces it (to change a built-in one's thresholds, say).
    /// Two files of `dir` with one id are an error.
    pub fn with_overrides(self, dir: &Path) -> Result<DetectionSet> {
        let own = load_dir(dir)?;
        let mut all = self.detections;
        all.retain(|existing| !own.iter().any(|d| d.id == existing.id));
        all.extend(own);
        DetectionSet::new(all)
    }

    /// Only the detections with these ids; an unknown id is an error.
    pub fn only(mut self, ids: &[String]) -> Result<DetectionSet> {
        if ids.is_empty() {
            return Ok(self);
        }
        if let Some(unknown) = ids
            .iter()
            .find(|id| !self.detections.iter().any(|d| &&d.id == id))
        {
            return Err(Error::Detection(format!(
                "no detection {unknown} (`trailscope detections` lists them)"
            )));
        }
        self.detections.retain(|d| ids.contains(&d.id));
        Ok(self)
    }

    /// The detections, sorted by id.
    pub fn detections(&self) -> &[Detection] {
        &self.detections
    }

    /// How many detections.
    pub fn len(&self) -> usize {
        self.detections.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.detections.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "-- title: T\n-- severity: low\n-- description: D\n-- rationale: R\n-- references: https://a\n";

    #[test]
    fn a_users_file_replaces_the_built_in_one_with_its_id() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.sql"),
            format!("-- id: root-activity\n{HEADER}SELECT 1"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("new.sql"),
            format!("-- id: my-own\n{HEADER}SELECT 2"),
        )
        .unwrap();
        let builtin = DetectionSet::builtin();
        let set = builtin.clone().with_overrides(dir.path()).unwrap();
        assert_eq!(set.len(), builtin.len() + 1);
        let root = set
            .detections()
            .iter()
            .find(|d| d.id == "root-activity")
            .unwrap();
        assert_eq!(root.sql, "SELECT 1");
        assert!(set.detections().windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn two_files_with_one_id_and_unknown_ids_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.sql", "b.sql"] {
            std::fs::write(
                dir.path().join(name),
                format!("-- id: twice\n{HEADER}SELECT 1"),
            )
            .unwrap();
        }
        let err = DetectionSet::builtin()
            .with_overrides(dir.path())
            .unwrap_err();
        assert!(err.to_string().contains("used twice"), "{err}");
        let err = DetectionSet::builtin()
            .only(&["nope".to_string()])
            .unwrap_err();
        assert!(err.to_string().contains("no detection nope"), "{err}");
        let one = DetectionSet::builtin()
            .only(&["root-activity".to_string()])
            .unwrap();
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn a_fifo_among_the_detections_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("stuck.sql");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = DetectionSet::builtin()
            .with_overrides(dir.path())
            .unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}
