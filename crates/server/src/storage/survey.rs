//! Surveys, questionnaire versions, the sample (assignments), recipients and code lists.

use super::{Result, Storage, StorageError, row_time, row_uuid, time_text};
use crate::db::Row;
use chrono::Utc;
use fieldpost_proto::v1::{
    Assignment, CodeEntry, CodeLists, QuestionnaireVersion, RecipientKey, Survey,
};
use uuid::Uuid;

/// One row of a sample upload, before ids are given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssignment {
    pub code: String,
    pub reserve: bool,
    pub reserve_for: Option<String>,
    pub province: String,
    pub commune: String,
    pub village: String,
    pub stratum: String,
    /// Username of the enumerator.
    pub enumerator: String,
}

/// What ingest checks an interview against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentPlace {
    pub survey_id: Uuid,
    pub province: String,
    pub commune: String,
    pub stratum: String,
    pub enumerator_id: Uuid,
}

fn survey(r: &Row) -> Result<Survey> {
    Ok(Survey {
        id: row_uuid(r, 0)?,
        code: r.text(1)?,
        title: r.text(2)?,
        created_at: row_time(r, 3)?,
    })
}

fn assignment(r: &Row) -> Result<Assignment> {
    Ok(Assignment {
        id: row_uuid(r, 0)?,
        code: r.text(1)?,
        reserve: r.int(2)? != 0,
        reserve_for: r.opt_text(3)?,
        province: r.text(4)?,
        commune: r.text(5)?,
        village: r.text(6)?,
        stratum: r.text(7)?,
    })
}

impl Storage {
    pub fn create_survey(&self, code: &str, title: &str) -> Result<Survey> {
        let s = Survey {
            id: Uuid::now_v7(),
            code: code.into(),
            title: title.into(),
            created_at: Utc::now(),
        };
        let res = self.tx(|sql| {
            sql.execute(
                "INSERT INTO survey (id, code, title, created_at) VALUES ($1, $2, $3, $4)",
                &[
                    s.id.to_string().into(),
                    code.into(),
                    title.into(),
                    time_text(s.created_at).into(),
                ],
            )?;
            Ok(())
        });
        match res {
            Err(StorageError::Db(e)) if e.is_unique_violation() => Err(StorageError::Conflict(
                format!("a survey with code {code:?} already exists"),
            )),
            other => other.map(|()| s),
        }
    }

    pub fn survey(&self, id: Uuid) -> Result<Option<Survey>> {
        self.read(|sql| {
            let rows = sql.query(
                "SELECT id, code, title, created_at FROM survey WHERE id = $1",
                &[id.to_string().into()],
            )?;
            rows.first().map(survey).transpose()
        })
    }

    pub fn surveys(&self) -> Result<Vec<Survey>> {
        self.read(|sql| {
            sql.query(
                "SELECT id, code, title, created_at FROM survey ORDER BY created_at",
                &[],
            )?
            .iter()
            .map(survey)
            .collect()
        })
    }

    /// Stores a questionnaire version. Versions are immutable: uploading the same bytes again
    /// is a no-op, different bytes under an existing version are a conflict (interviews already
    /// recorded against it must keep meaning what they meant).
    pub fn put_questionnaire(
        &self,
        survey_id: Uuid,
        version: &str,
        xlsform: &[u8],
        sha256: &str,
        compiled: Option<&str>,
    ) -> Result<QuestionnaireVersion> {
        let now = Utc::now();
        self.tx(|sql| {
            let rows = sql.query(
                "SELECT sha256, uploaded_at FROM questionnaire WHERE survey_id = $1 AND version = $2",
                &[survey_id.to_string().into(), version.into()],
            )?;
            if let Some(r) = rows.first() {
                if r.text(0)? != sha256 {
                    return Err(StorageError::Conflict(format!(
                        "questionnaire version {version:?} already exists with other content; \
                         upload the new form under a new version"
                    )));
                }
                return Ok(QuestionnaireVersion {
                    survey_id,
                    version: version.into(),
                    sha256: sha256.into(),
                    byte_len: xlsform.len() as u64,
                    uploaded_at: row_time(r, 1)?,
                    warnings: Vec::new(),
                });
            }
            sql.execute(
                "INSERT INTO questionnaire (survey_id, version, xlsform, sha256, compiled, uploaded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    survey_id.to_string().into(),
                    version.into(),
                    xlsform.to_vec().into(),
                    sha256.into(),
                    compiled.into(),
                    time_text(now).into(),
                ],
            )?;
            Ok(QuestionnaireVersion {
                survey_id,
                version: version.into(),
                sha256: sha256.into(),
                byte_len: xlsform.len() as u64,
                uploaded_at: now,
                warnings: Vec::new(),
            })
        })
    }

    pub fn questionnaires(&self, survey_id: Uuid) -> Result<Vec<QuestionnaireVersion>> {
        self.read(|sql| {
            sql.query(
                "SELECT version, sha256, length(xlsform), uploaded_at FROM questionnaire \
                 WHERE survey_id = $1 ORDER BY uploaded_at",
                &[survey_id.to_string().into()],
            )?
            .iter()
            .map(|r| {
                Ok(QuestionnaireVersion {
                    survey_id,
                    version: r.text(0)?,
                    sha256: r.text(1)?,
                    byte_len: r.int(2)?.max(0) as u64,
                    uploaded_at: row_time(r, 3)?,
                    warnings: Vec::new(),
                })
            })
            .collect()
        })
    }

    /// SHA-256 of the workbook stored as `version`, when that version exists.
    pub fn questionnaire_sha(&self, survey_id: Uuid, version: &str) -> Result<Option<String>> {
        self.read(|sql| {
            let rows = sql.query(
                "SELECT sha256 FROM questionnaire WHERE survey_id = $1 AND version = $2",
                &[survey_id.to_string().into(), version.into()],
            )?;
            rows.first().map(|r| Ok(r.text(0)?)).transpose()
        })
    }

    /// The compiled form of a version (`None` inside when it was stored before uploads were
    /// compiled) and its workbook, or `None` when the version is not loaded.
    pub fn questionnaire_for_checks(
        &self,
        survey_id: Uuid,
        version: &str,
    ) -> Result<Option<(Option<String>, Vec<u8>)>> {
        self.read(|sql| {
            let rows = sql.query(
                "SELECT compiled, xlsform FROM questionnaire WHERE survey_id = $1 AND version = $2",
                &[survey_id.to_string().into(), version.into()],
            )?;
            rows.first()
                .map(|r| Ok((r.opt_text(0)?, r.blob(1)?)))
                .transpose()
        })
    }

    pub fn questionnaire_file(&self, survey_id: Uuid, version: &str) -> Result<Option<Vec<u8>>> {
        self.read(|sql| {
            let rows = sql.query(
                "SELECT xlsform FROM questionnaire WHERE survey_id = $1 AND version = $2",
                &[survey_id.to_string().into(), version.into()],
            )?;
            rows.first().map(|r| Ok(r.blob(0)?)).transpose()
        })
    }

    /// Loads a sample in one transaction: all rows or none. Returns (official, reserve).
    pub fn insert_assignments(
        &self,
        survey_id: Uuid,
        rows: &[NewAssignment],
    ) -> Result<(u64, u64)> {
        let res = self.tx(|sql| {
            let (mut official, mut reserve) = (0, 0);
            for (i, a) in rows.iter().enumerate() {
                let found = sql.query(
                    "SELECT id, role FROM account WHERE username = $1",
                    &[a.enumerator.as_str().into()],
                )?;
                let Some(acc) = found.first() else {
                    return Err(StorageError::Invalid(format!(
                        "row {}: no account named {:?}; create the enumerator's account first",
                        i + 2,
                        a.enumerator
                    )));
                };
                if acc.text(1)? != "enumerator" {
                    return Err(StorageError::Invalid(format!(
                        "row {}: account {:?} is not an enumerator",
                        i + 2,
                        a.enumerator
                    )));
                }
                sql.execute(
                    "INSERT INTO assignment (id, survey_id, code, reserve, reserve_for, province, commune, \
                     village, stratum, enumerator_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &[
                        Uuid::now_v7().to_string().into(),
                        survey_id.to_string().into(),
                        a.code.as_str().into(),
                        i64::from(a.reserve).into(),
                        a.reserve_for.clone().into(),
                        a.province.as_str().into(),
                        a.commune.as_str().into(),
                        a.village.as_str().into(),
                        a.stratum.as_str().into(),
                        acc.text(0)?.into(),
                    ],
                )?;
                if a.reserve {
                    reserve += 1;
                } else {
                    official += 1;
                }
            }
            // A reserve must name an official assignment of the same survey.
            let orphans = sql.query(
                "SELECT r.code FROM assignment r WHERE r.survey_id = $1 AND r.reserve = 1 AND NOT EXISTS \
                 (SELECT 1 FROM assignment o WHERE o.survey_id = r.survey_id AND o.code = r.reserve_for \
                 AND o.reserve = 0) LIMIT 1",
                &[survey_id.to_string().into()],
            )?;
            if let Some(r) = orphans.first() {
                return Err(StorageError::Invalid(format!(
                    "reserve {:?} names no official assignment in reserve_for",
                    r.text(0)?
                )));
            }
            Ok((official, reserve))
        });
        match res {
            Err(StorageError::Db(e)) if e.is_unique_violation() => Err(StorageError::Conflict(
                "an assignment code in this sample already exists in the survey".into(),
            )),
            other => other,
        }
    }

    pub fn assignments_for(&self, survey_id: Uuid, enumerator_id: Uuid) -> Result<Vec<Assignment>> {
        self.read(|sql| {
            sql.query(
                "SELECT id, code, reserve, reserve_for, province, commune, village, stratum FROM assignment \
                 WHERE survey_id = $1 AND enumerator_id = $2 ORDER BY code",
                &[survey_id.to_string().into(), enumerator_id.to_string().into()],
            )?
            .iter()
            .map(assignment)
            .collect()
        })
    }

    pub fn set_recipient(&self, survey_id: Uuid, key: &RecipientKey) -> Result<()> {
        self.tx(|sql| {
            sql.execute(
                "INSERT INTO recipient (survey_id, key_id, public_key, purpose) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (survey_id, key_id) DO NOTHING",
                &[
                    survey_id.to_string().into(),
                    key.key_id.as_str().into(),
                    key.public_key.as_str().into(),
                    key.purpose.as_str().into(),
                ],
            )?;
            Ok(())
        })
    }

    pub fn recipients(&self, survey_id: Uuid) -> Result<Vec<RecipientKey>> {
        self.read(|sql| {
            sql.query(
                "SELECT public_key, key_id, purpose FROM recipient WHERE survey_id = $1 ORDER BY purpose DESC, key_id",
                &[survey_id.to_string().into()],
            )?
            .iter()
            .map(|r| Ok(RecipientKey { public_key: r.text(0)?, key_id: r.text(1)?, purpose: r.text(2)? }))
            .collect()
        })
    }

    /// Replaces a code list (`province` or `commune`).
    pub fn put_codelist(&self, list: &str, entries: &[CodeEntry]) -> Result<()> {
        self.tx(|sql| {
            sql.execute("DELETE FROM codelist WHERE list = $1", &[list.into()])?;
            for e in entries {
                sql.execute(
                    "INSERT INTO codelist (list, code, name, parent) VALUES ($1, $2, $3, $4)",
                    &[
                        list.into(),
                        e.code.as_str().into(),
                        e.name.as_str().into(),
                        e.parent.clone().into(),
                    ],
                )?;
            }
            Ok(())
        })
    }

    pub fn codelists(&self) -> Result<CodeLists> {
        self.read(|sql| {
            let mut get = |list: &str| -> Result<Vec<CodeEntry>> {
                sql.query(
                    "SELECT code, name, parent FROM codelist WHERE list = $1 ORDER BY code",
                    &[list.into()],
                )?
                .iter()
                .map(|r| {
                    Ok(CodeEntry {
                        code: r.text(0)?,
                        name: r.text(1)?,
                        parent: r.opt_text(2)?,
                    })
                })
                .collect()
            };
            Ok(CodeLists {
                provinces: get("province")?,
                communes: get("commune")?,
            })
        })
    }
}

/// Reads the assignment an interview claims, within a transaction.
pub(super) fn assignment_place(
    sql: &mut dyn crate::db::Sql,
    id: Uuid,
) -> Result<Option<AssignmentPlace>> {
    let rows = sql.query(
        "SELECT survey_id, province, commune, stratum, enumerator_id FROM assignment WHERE id = $1",
        &[id.to_string().into()],
    )?;
    rows.first()
        .map(|r| {
            Ok(AssignmentPlace {
                survey_id: row_uuid(r, 0)?,
                province: r.text(1)?,
                commune: r.text(2)?,
                stratum: r.text(3)?,
                enumerator_id: row_uuid(r, 4)?,
            })
        })
        .transpose()
}
