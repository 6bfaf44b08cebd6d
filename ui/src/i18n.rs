//! Every string the UI shows, in Vietnamese (first) and English.
//!
//! One enum instead of string keys: a missing translation or a misspelt key is a compile error,
//! and `match` makes sure each message has both languages.

use fieldpost_proto::app::ErrorCode;

/// The user's display language. Vietnamese is the default: the app's users are Vietnamese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>` and storage.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// A message the UI can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    Tagline,
    LanguageLabel,
    StoreHeading,
    StoreChecking,
    StoreReady,
    SchemaVersion,
    StorePath,
    CheckAgain,
    ErrorDetail,
    Error(ErrorCode),
}

impl Msg {
    pub fn text(self, lang: Lang) -> &'static str {
        let (vi, en) = self.both();
        match lang {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    fn both(self) -> (&'static str, &'static str) {
        match self {
            Msg::Tagline => (
                "Khảo sát sự hài lòng của người dân, ngay cả khi không có sóng.",
                "Citizen satisfaction surveys, even where there is no signal.",
            ),
            Msg::LanguageLabel => ("Ngôn ngữ", "Language"),
            Msg::StoreHeading => ("Dữ liệu trên máy", "Data on this device"),
            Msg::StoreChecking => ("Đang mở kho dữ liệu…", "Opening the data store…"),
            Msg::StoreReady => (
                "Kho dữ liệu sẵn sàng. Mọi câu trả lời được lưu ngay trên máy.",
                "The data store is ready. Every answer is saved on this device at once.",
            ),
            Msg::SchemaVersion => ("Phiên bản cấu trúc", "Schema version"),
            Msg::StorePath => ("Tệp dữ liệu", "Data file"),
            Msg::CheckAgain => ("Kiểm tra lại", "Check again"),
            Msg::ErrorDetail => ("Chi tiết kỹ thuật", "Technical detail"),
            Msg::Error(code) => match code {
                ErrorCode::DataDirUnavailable => (
                    "Không tìm được thư mục dữ liệu của ứng dụng. Hãy kiểm tra bộ nhớ máy còn trống, rồi mở lại ứng dụng.",
                    "The app's data folder could not be found. Check that the device has free storage, then reopen the app.",
                ),
                ErrorCode::StoreUnavailable => (
                    "Không mở được kho dữ liệu. Dữ liệu đã lưu không bị xoá. Hãy mở lại ứng dụng; nếu vẫn lỗi, liên hệ điều phối viên.",
                    "The data store could not be opened. Nothing saved has been deleted. Reopen the app; if it still fails, call your coordinator.",
                ),
                ErrorCode::Internal => (
                    "Đã xảy ra lỗi không mong muốn. Hãy thử lại; nếu vẫn lỗi, liên hệ điều phối viên.",
                    "Something unexpected went wrong. Try again; if it keeps failing, call your coordinator.",
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_CODES: [ErrorCode; 3] = [
        ErrorCode::DataDirUnavailable,
        ErrorCode::StoreUnavailable,
        ErrorCode::Internal,
    ];

    fn all_messages() -> Vec<Msg> {
        let mut v = vec![
            Msg::Tagline,
            Msg::LanguageLabel,
            Msg::StoreHeading,
            Msg::StoreChecking,
            Msg::StoreReady,
            Msg::SchemaVersion,
            Msg::StorePath,
            Msg::CheckAgain,
            Msg::ErrorDetail,
        ];
        v.extend(ALL_CODES.map(Msg::Error));
        v
    }

    #[test]
    fn every_message_is_translated_and_differs_between_languages() {
        for m in all_messages() {
            let (vi, en) = (m.text(Lang::Vi), m.text(Lang::En));
            assert!(!vi.trim().is_empty() && !en.trim().is_empty(), "{m:?}");
            assert_ne!(vi, en, "{m:?} is not translated");
        }
    }

    /// Vietnamese text must be NFC-composed: decomposed diacritics render with misplaced marks in
    /// some fonts. Combining marks U+0300..U+036F never appear in composed Vietnamese.
    #[test]
    fn vietnamese_strings_are_composed() {
        for m in all_messages() {
            let vi = m.text(Lang::Vi);
            assert!(
                !vi.chars().any(|c| ('\u{300}'..='\u{36f}').contains(&c)),
                "{m:?} has a decomposed diacritic"
            );
        }
    }

    #[test]
    fn language_tags_round_trip() {
        for l in [Lang::Vi, Lang::En] {
            assert_eq!(Lang::from_tag(l.tag()), Some(l));
        }
        assert_eq!(Lang::from_tag("fr"), None);
    }
}
