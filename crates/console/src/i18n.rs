//! Every string the console shows, in Vietnamese (first) and English.
//!
//! The same approach as the app's `ui/src/i18n.rs`: one enum instead of string keys, so a
//! missing translation or a misspelt key is a compile error, and `match` makes sure each
//! message has both languages. Messages with blanks use `{0}`, `{1}` (see [`fill`]).

use fieldpost_proto::v1::{ErrorCode, ProgressBy, Role};

/// The reader's display language. Vietnamese is the default: HQ and the coordinators are
/// Vietnamese; English is for visitors and support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>` and local storage.
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

/// Replaces `{0}`, `{1}`, ... in a message with `args`.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = template.to_string();
    for (i, a) in args.iter().enumerate() {
        out = out.replace(&format!("{{{i}}}"), a);
    }
    out
}

/// Declares [`Msg`] and [`Msg::PLAIN`] (its variants without data) from one list, so the
/// translation tests see every message without a second list to keep in step.
macro_rules! messages {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// A message the console can show.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Msg {
            $($(#[$doc])* $name,)*
            /// A role's name.
            Role(Role),
            /// A grouping of the progress tables.
            By(ProgressBy),
            /// What an API error code means for the reader.
            Error(ErrorCode),
        }

        impl Msg {
            /// Every message that carries no data, in declaration order (for the tests).
            #[cfg(test)]
            pub const PLAIN: &[Msg] = &[$(Msg::$name,)*];
        }
    };
}

messages! {
    AppName,
    Tagline,
    Username,
    Password,
    SignIn,
    SigningIn,
    SignOut,
    SignedInAs,
    Language,
    NavProgress,
    NavSurveys,
    NavAccounts,
    NavEnrol,
    NavIncidents,
    ProgressTitle,
    ProgressIntro,
    GroupBy,
    Province,
    AllProvinces,
    Completed,
    NonResponse,
    Total,
    /// How many interviews (`{0}`) and groups (`{1}`) a table rests on.
    RestsOn,
    /// `{0}`: the local time the figures were read.
    AsOf,
    Refresh,
    DownloadCsv,
    NoInterviewsYet,
    Loading,
    OwnProvinceOnly,
    SurveysTitle,
    Code,
    Title,
    Created,
    Id,
    NoSurveys,
    AccountsTitle,
    /// `{0}` accounts.
    AccountsCount,
    RoleCol,
    State,
    Active,
    Disabled,
    Actions,
    Disable,
    Enable,
    ResetPassword,
    NewPassword,
    Save,
    Cancel,
    CreateAccount,
    Create,
    ProvinceCode,
    AccountCreated,
    PasswordWasReset,
    EnrolTitle,
    EnrolIntro,
    Survey,
    Enumerator,
    MakeCode,
    TypedCode,
    ServerFingerprint,
    ServerAddress,
    Expires,
    ScanWithApp,
    NoEnumerators,
    IncidentsTitle,
    When,
    Kind,
    Assignment,
    Detail,
    NoIncidents,
    NetworkError,
    /// The server's own words follow.
    ServerSaid,
    Required,
}

impl Msg {
    /// The message in `lang`. Vietnamese text is NFC (checked by a test).
    pub fn text(self, lang: Lang) -> &'static str {
        use Lang::*;
        use Msg::*;
        match (self, lang) {
            (AppName, Vi) => "FieldPost — Bảng điều hành",
            (AppName, En) => "FieldPost — Console",
            (Tagline, Vi) => "Dành cho Tổng cục và điều phối viên tỉnh",
            (Tagline, En) => "For HQ and provincial coordinators",
            (Username, Vi) => "Tên đăng nhập",
            (Username, En) => "Username",
            (Password, Vi) => "Mật khẩu",
            (Password, En) => "Password",
            (SignIn, Vi) => "Đăng nhập",
            (SignIn, En) => "Sign in",
            (SigningIn, Vi) => "Đang đăng nhập…",
            (SigningIn, En) => "Signing in…",
            (SignOut, Vi) => "Đăng xuất",
            (SignOut, En) => "Sign out",
            (SignedInAs, Vi) => "Đã đăng nhập: {0}",
            (SignedInAs, En) => "Signed in as {0}",
            (Language, Vi) => "Ngôn ngữ",
            (Language, En) => "Language",
            (NavProgress, Vi) => "Tiến độ",
            (NavProgress, En) => "Progress",
            (NavSurveys, Vi) => "Cuộc điều tra",
            (NavSurveys, En) => "Surveys",
            (NavAccounts, Vi) => "Tài khoản",
            (NavAccounts, En) => "Accounts",
            (NavEnrol, Vi) => "Mã đăng ký máy",
            (NavEnrol, En) => "Enrolment codes",
            (NavIncidents, Vi) => "Sự cố",
            (NavIncidents, En) => "Incidents",
            (ProgressTitle, Vi) => "Tiến độ thu thập",
            (ProgressTitle, En) => "Quota progress",
            (ProgressIntro, Vi) => {
                "Số phỏng vấn đã nhận trên máy chủ: hoàn thành và không trả lời, theo nhóm."
            }
            (ProgressIntro, En) => {
                "Interviews received by the server: completed and non-response, per group."
            }
            (GroupBy, Vi) => "Theo",
            (GroupBy, En) => "By",
            (Province, Vi) => "Tỉnh",
            (Province, En) => "Province",
            (AllProvinces, Vi) => "Tất cả các tỉnh",
            (AllProvinces, En) => "All provinces",
            (Completed, Vi) => "Hoàn thành",
            (Completed, En) => "Completed",
            (NonResponse, Vi) => "Không trả lời",
            (NonResponse, En) => "Non-response",
            (Total, Vi) => "Tổng",
            (Total, En) => "Total",
            (RestsOn, Vi) => "Số phỏng vấn: {0} · số nhóm: {1}",
            (RestsOn, En) => "Interviews: {0} · groups: {1}",
            (AsOf, Vi) => "tính đến {0}",
            (AsOf, En) => "as of {0}",
            (Refresh, Vi) => "Làm mới",
            (Refresh, En) => "Refresh",
            (DownloadCsv, Vi) => "Tải CSV",
            (DownloadCsv, En) => "Download CSV",
            (NoInterviewsYet, Vi) => "Máy chủ chưa nhận phỏng vấn nào.",
            (NoInterviewsYet, En) => "The server has received no interviews yet.",
            (Loading, Vi) => "Đang tải…",
            (Loading, En) => "Loading…",
            (OwnProvinceOnly, Vi) => "Bạn chỉ xem được tỉnh {0}.",
            (OwnProvinceOnly, En) => "You see province {0} only.",
            (SurveysTitle, Vi) => "Các cuộc điều tra",
            (SurveysTitle, En) => "Surveys",
            (Code, Vi) => "Mã",
            (Code, En) => "Code",
            (Title, Vi) => "Tên",
            (Title, En) => "Title",
            (Created, Vi) => "Ngày tạo",
            (Created, En) => "Created",
            (Id, Vi) => "Định danh",
            (Id, En) => "Id",
            (NoSurveys, Vi) => "Chưa có cuộc điều tra nào.",
            (NoSurveys, En) => "No surveys yet.",
            (AccountsTitle, Vi) => "Tài khoản",
            (AccountsTitle, En) => "Accounts",
            (AccountsCount, Vi) => "{0} tài khoản",
            (AccountsCount, En) => "{0} accounts",
            (Msg::Role(_), _) | (By(_), _) | (Error(_), _) => self.dynamic(lang),
            (RoleCol, Vi) => "Vai trò",
            (RoleCol, En) => "Role",
            (State, Vi) => "Trạng thái",
            (State, En) => "State",
            (Active, Vi) => "Đang hoạt động",
            (Active, En) => "Active",
            (Disabled, Vi) => "Đã khoá",
            (Disabled, En) => "Disabled",
            (Actions, Vi) => "Thao tác",
            (Actions, En) => "Actions",
            (Disable, Vi) => "Khoá",
            (Disable, En) => "Disable",
            (Enable, Vi) => "Mở khoá",
            (Enable, En) => "Enable",
            (ResetPassword, Vi) => "Đặt lại mật khẩu",
            (ResetPassword, En) => "Reset password",
            (NewPassword, Vi) => "Mật khẩu mới",
            (NewPassword, En) => "New password",
            (Save, Vi) => "Lưu",
            (Save, En) => "Save",
            (Cancel, Vi) => "Huỷ",
            (Cancel, En) => "Cancel",
            (CreateAccount, Vi) => "Tạo tài khoản",
            (CreateAccount, En) => "Create an account",
            (Create, Vi) => "Tạo",
            (Create, En) => "Create",
            (ProvinceCode, Vi) => "Mã tỉnh (điều phối viên, phúc tra)",
            (ProvinceCode, En) => "Province code (coordinator, recheck team)",
            (AccountCreated, Vi) => "Đã tạo tài khoản {0}.",
            (AccountCreated, En) => "Account {0} created.",
            (PasswordWasReset, Vi) => "Đã đặt lại mật khẩu của {0}.",
            (PasswordWasReset, En) => "The password of {0} was reset.",
            (EnrolTitle, Vi) => "Mã đăng ký máy cho điều tra viên",
            (EnrolTitle, En) => "Enrolment codes for enumerators",
            (EnrolIntro, Vi) => {
                "Mã dùng một lần. Điều tra viên quét mã QR bằng ứng dụng, hoặc gõ mã và so dấu vân tay của máy chủ."
            }
            (EnrolIntro, En) => {
                "A code works once. The enumerator scans the QR code with the app, or types the code and compares the server fingerprint."
            }
            (Survey, Vi) => "Cuộc điều tra",
            (Survey, En) => "Survey",
            (Enumerator, Vi) => "Điều tra viên",
            (Enumerator, En) => "Enumerator",
            (MakeCode, Vi) => "Tạo mã đăng ký",
            (MakeCode, En) => "Make an enrolment code",
            (TypedCode, Vi) => "Mã đăng ký",
            (TypedCode, En) => "Enrolment code",
            (ServerFingerprint, Vi) => "Dấu vân tay máy chủ",
            (ServerFingerprint, En) => "Server fingerprint",
            (ServerAddress, Vi) => "Địa chỉ máy chủ",
            (ServerAddress, En) => "Server address",
            (Expires, Vi) => "Hết hạn",
            (Expires, En) => "Expires",
            (ScanWithApp, Vi) => "Quét bằng ứng dụng FieldPost",
            (ScanWithApp, En) => "Scan with the FieldPost app",
            (NoEnumerators, Vi) => {
                "Chưa có điều tra viên nào đang hoạt động: hãy tạo tài khoản trước."
            }
            (NoEnumerators, En) => "No active enumerator yet: create an account first.",
            (IncidentsTitle, Vi) => "Sự cố khi nhận dữ liệu",
            (IncidentsTitle, En) => "Ingest incidents",
            (When, Vi) => "Thời điểm",
            (When, En) => "When",
            (Kind, Vi) => "Loại",
            (Kind, En) => "Kind",
            (Assignment, Vi) => "Hộ",
            (Assignment, En) => "Assignment",
            (Detail, Vi) => "Chi tiết",
            (Detail, En) => "Detail",
            (NoIncidents, Vi) => "Không có sự cố nào.",
            (NoIncidents, En) => "No incidents.",
            (NetworkError, Vi) => "Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.",
            (NetworkError, En) => "The server cannot be reached. Check the network and retry.",
            (ServerSaid, Vi) => "Máy chủ báo",
            (ServerSaid, En) => "The server said",
            (Required, Vi) => "Hãy điền đủ các ô.",
            (Required, En) => "Fill in every field.",
        }
    }

    fn dynamic(self, lang: Lang) -> &'static str {
        use Lang::*;
        match (self, lang) {
            (Msg::Role(r), Vi) => match r {
                Role::Admin => "Quản trị (Tổng cục)",
                Role::Coordinator => "Điều phối viên tỉnh",
                Role::RecheckTeam => "Tổ phúc tra",
                Role::Enumerator => "Điều tra viên",
            },
            (Msg::Role(r), En) => match r {
                Role::Admin => "Admin (HQ)",
                Role::Coordinator => "Provincial coordinator",
                Role::RecheckTeam => "Recheck team",
                Role::Enumerator => "Enumerator",
            },
            (Msg::By(b), Vi) => match b {
                ProgressBy::Province => "Tỉnh",
                ProgressBy::Commune => "Xã",
                ProgressBy::Stratum => "Tầng mẫu",
                ProgressBy::Enumerator => "Điều tra viên",
            },
            (Msg::By(b), En) => match b {
                ProgressBy::Province => "Province",
                ProgressBy::Commune => "Commune",
                ProgressBy::Stratum => "Stratum",
                ProgressBy::Enumerator => "Enumerator",
            },
            (Msg::Error(c), Vi) => match c {
                ErrorCode::Unauthenticated => {
                    "Sai tên đăng nhập hoặc mật khẩu, hoặc phiên đã hết hạn."
                }
                ErrorCode::Forbidden => "Tài khoản này không được làm việc đó.",
                ErrorCode::NotFound => "Không tìm thấy.",
                ErrorCode::Conflict => "Đã có rồi (trùng).",
                ErrorCode::TooManyRequests => "Thử quá nhiều lần. Đợi một lát rồi thử lại.",
                ErrorCode::InvalidRequest => "Dữ liệu nhập chưa đúng.",
                _ => "Máy chủ từ chối yêu cầu.",
            },
            (Msg::Error(c), En) => match c {
                ErrorCode::Unauthenticated => {
                    "Wrong username or password, or the session has expired."
                }
                ErrorCode::Forbidden => "This account may not do that.",
                ErrorCode::NotFound => "Not found.",
                ErrorCode::Conflict => "It exists already.",
                ErrorCode::TooManyRequests => "Too many attempts. Wait a moment and retry.",
                ErrorCode::InvalidRequest => "Something entered is not right.",
                _ => "The server refused the request.",
            },
            _ => "",
        }
    }

    /// Shorthand for the views.
    pub fn t(self, lang: Lang) -> String {
        self.text(lang).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    const ROLES: [Role; 4] = [
        Role::Admin,
        Role::Coordinator,
        Role::RecheckTeam,
        Role::Enumerator,
    ];
    const BYS: [ProgressBy; 4] = [
        ProgressBy::Province,
        ProgressBy::Commune,
        ProgressBy::Stratum,
        ProgressBy::Enumerator,
    ];

    fn all() -> Vec<Msg> {
        let mut v = Msg::PLAIN.to_vec();
        v.extend(ROLES.map(Msg::Role));
        v.extend(BYS.map(Msg::By));
        v.extend(
            [
                ErrorCode::Unauthenticated,
                ErrorCode::Forbidden,
                ErrorCode::Conflict,
                ErrorCode::Internal,
            ]
            .map(Msg::Error),
        );
        v
    }

    /// Every message has a non-empty text in both languages, the two differ where the message
    /// has words, and the Vietnamese is NFC (a decomposed "ệ" would sort and search wrongly and
    /// render badly in some fonts).
    #[test]
    fn every_message_is_translated_and_nfc() {
        for m in all() {
            let vi = m.text(Lang::Vi);
            let en = m.text(Lang::En);
            assert!(!vi.is_empty() && !en.is_empty(), "{m:?}");
            assert_eq!(vi, vi.nfc().collect::<String>(), "{m:?} is not NFC");
            let blanks = |s: &str| (0..3).filter(|i| s.contains(&format!("{{{i}}}"))).count();
            assert_eq!(blanks(vi), blanks(en), "{m:?}: blanks differ");
        }
    }

    #[test]
    fn fill_replaces_blanks() {
        assert_eq!(
            fill(Msg::RestsOn.text(Lang::En), &["12", "3"]),
            "Interviews: 12 · groups: 3"
        );
    }
}
