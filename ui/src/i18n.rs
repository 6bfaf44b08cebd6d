//! Every string the UI shows, in Vietnamese (first) and English.
//!
//! One enum instead of string keys: a missing translation or a misspelt key is a compile error,
//! and `match` makes sure each message has both languages. Messages with blanks use `{0}`, `{1}`
//! (see [`fill`]); questionnaire text comes from the core, already in the chosen language.

use fieldpost_proto::app::{AssignmentState, ErrorCode, Language, NonResponseCode};

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

    /// The core's name for the same language (it picks the questionnaire's labels by it).
    pub fn to_core(self) -> Language {
        match self {
            Lang::Vi => Language::Vi,
            Lang::En => Language::En,
        }
    }

    pub fn from_core(l: Language) -> Lang {
        match l {
            Language::Vi => Lang::Vi,
            Language::En => Lang::En,
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

/// Declares [`Msg`] and [`Msg::PLAIN`], the list of its variants without data, from one list,
/// so the translation tests see every message without a second list to keep in step.
macro_rules! messages {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// A message the UI can show.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Msg {
            $($(#[$doc])* $name,)*
            /// An assignment's state, as its badge says it.
            State(AssignmentState),
            /// A non-response code.
            Nr(NonResponseCode),
            /// What a failed command means for the user.
            Error(ErrorCode),
            /// Why the server refused a held interview, and what to do.
            Refusal(Refusal),
        }

        impl Msg {
            /// Every message that carries no data, in declaration order (for the tests).
            #[cfg(test)]
            pub const PLAIN: &[Msg] = &[$(Msg::$name,)*];
        }
    };
}

messages! {
    Tagline,
    LanguageLabel,
    Menu,
    NavAssignments,
    NavSync,
    NavSettings,
    Loading,
    TryAgain,
    Close,
    Cancel,
    ErrorDetail,
    FieldRequired,
    // enrol and unlock
    EnrolTitle,
    EnrolIntro,
    ServerAddress,
    EnrolCode,
    ServerFingerprint,
    ServerFingerprintHint,
    PinChoose,
    PinAgain,
    PinWhy,
    EnrolSubmit,
    Working,
    PinTooShort,
    PinMismatch,
    UnlockTitle,
    UnlockIntro,
    Pin,
    UnlockSubmit,
    // assignments
    AssignmentsTitle,
    Search,
    ProgressCompleted,
    ProgressInProgress,
    ProgressNotStarted,
    ProgressNonResponse,
    ProgressReserveHeld,
    Official,
    Reserve,
    RevisitDue,
    RevisitOn,
    Visits,
    NoAssignments,
    NoMatches,
    ReserveNotReleased,
    AssignmentEnded,
    InterviewCompleted,
    // non-response
    CouldNotInterview,
    NrReason,
    NrNote,
    NrRevisit,
    NrFinalNow,
    NrRevisitHint,
    NrSubmit,
    NrReleased,
    NrRevisitSaved,
    NrFinalSaved,
    // interview
    ScreenOf,
    Answered,
    Back,
    Next,
    ReviewButton,
    Leave,
    JumpToSection,
    Required,
    ChooseOne,
    Latitude,
    Longitude,
    UseGps,
    GpsLocating,
    GpsUnavailable,
    LocationTitle,
    LocationHint,
    LocationSaved,
    SaveLocation,
    NotANumber,
    NotAWholeNumber,
    RowOf,
    AddRow,
    RemoveRow,
    ReadOnlyInterview,
    GridScale,
    // review
    ReviewTitle,
    ReviewNoProblems,
    ReviewProblems,
    Missing,
    Invalid,
    Complete,
    BackToInterview,
    // sync
    SyncPending,
    SyncAcked,
    SyncLast,
    SyncNever,
    SyncNow,
    SyncRunning,
    SyncDone,
    SyncLastError,
    // settings
    Enumerator,
    Survey,
    DeviceId,
    StorePath,
    SchemaVersion,
    ServerFixed,
    About,
    Version,
    LockNow,
    AutoLockLabel,
    AutoLockHelp,
    AutoLockMinutes,
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
            Msg::Menu => ("Trình đơn", "Menu"),
            Msg::NavAssignments => ("Danh sách", "Assignments"),
            Msg::NavSync => ("Đồng bộ", "Sync"),
            Msg::NavSettings => ("Cài đặt", "Settings"),
            Msg::Loading => ("Đang tải…", "Loading…"),
            Msg::TryAgain => ("Thử lại", "Try again"),
            Msg::Close => ("Đóng", "Close"),
            Msg::Cancel => ("Huỷ", "Cancel"),
            Msg::ErrorDetail => ("Chi tiết kỹ thuật", "Technical detail"),
            Msg::FieldRequired => ("Hãy điền ô này.", "Please fill in this field."),
            Msg::EnrolTitle => ("Đăng ký thiết bị", "Enrol this device"),
            Msg::EnrolIntro => (
                "Nhập địa chỉ máy chủ, mã đăng ký một lần và dấu vân tay máy chủ do giám sát viên cung cấp.",
                "Enter the server address, the one-time code and the server fingerprint your supervisor gave you.",
            ),
            Msg::ServerAddress => ("Địa chỉ máy chủ", "Server address"),
            Msg::EnrolCode => ("Mã đăng ký một lần", "One-time enrolment code"),
            Msg::ServerFingerprint => ("Dấu vân tay máy chủ", "Server fingerprint"),
            Msg::ServerFingerprintHint => (
                "In bên cạnh mã đăng ký (ví dụ 3f2a-9c01-…). Ứng dụng chỉ tin máy chủ có đúng mã này.",
                "Printed beside the enrolment code (for example 3f2a-9c01-…). The app trusts only the server with exactly this fingerprint.",
            ),
            Msg::PinChoose => (
                "Chọn mã PIN (ít nhất 6 chữ số)",
                "Choose a PIN (at least 6 digits)",
            ),
            Msg::PinAgain => ("Nhập lại mã PIN", "Type the PIN again"),
            Msg::PinWhy => (
                "Mã PIN bảo vệ dữ liệu phỏng vấn trên máy này. Bạn sẽ nhập mã mỗi khi mở ứng dụng.",
                "The PIN protects the interview data on this device. You will type it each time you open the app.",
            ),
            Msg::EnrolSubmit => ("Đăng ký", "Enrol"),
            Msg::Working => ("Đang xử lý…", "Working…"),
            Msg::PinTooShort => (
                "Mã PIN phải có ít nhất 6 chữ số và chỉ gồm chữ số.",
                "The PIN must have at least 6 digits, and digits only.",
            ),
            Msg::PinMismatch => (
                "Hai lần nhập mã PIN không giống nhau. Hãy nhập lại.",
                "The two PINs are not the same. Type them again.",
            ),
            Msg::UnlockTitle => ("Mở khoá dữ liệu", "Unlock your data"),
            Msg::UnlockIntro => (
                "Nhập mã PIN để mở dữ liệu phỏng vấn trên máy này.",
                "Type your PIN to open the interview data on this device.",
            ),
            Msg::Pin => ("Mã PIN", "PIN"),
            Msg::UnlockSubmit => ("Mở khoá", "Unlock"),
            Msg::AssignmentsTitle => ("Hộ được giao", "Assignments"),
            Msg::Search => (
                "Tìm theo tên, địa chỉ, thôn",
                "Search by name, address, village",
            ),
            Msg::ProgressCompleted => ("Hoàn thành", "Completed"),
            Msg::ProgressInProgress => ("Đang làm", "In progress"),
            Msg::ProgressNotStarted => ("Chưa bắt đầu", "Not started"),
            Msg::ProgressNonResponse => ("Không phỏng vấn được", "Not interviewed"),
            Msg::ProgressReserveHeld => ("Dự phòng chưa dùng", "Reserves held"),
            Msg::Official => ("Chính thức", "Official"),
            Msg::Reserve => ("Dự phòng", "Reserve"),
            Msg::State(s) => match s {
                AssignmentState::NotStarted => ("Chưa bắt đầu", "Not started"),
                AssignmentState::InProgress => ("Đang phỏng vấn", "In progress"),
                AssignmentState::RevisitScheduled => ("Hẹn quay lại", "Revisit planned"),
                AssignmentState::Completed => ("Đã hoàn thành", "Completed"),
                AssignmentState::NonResponse => ("Không phỏng vấn được", "Not interviewed"),
                AssignmentState::ReserveHeld => ("Chưa được dùng", "Not released"),
            },
            Msg::RevisitDue => ("Đến hạn quay lại", "Revisit due"),
            Msg::RevisitOn => ("Quay lại ngày {0}", "Revisit on {0}"),
            Msg::Visits => ("Số lần đã đến: {0}", "Visits so far: {0}"),
            Msg::NoAssignments => (
                "Chưa có hộ nào được giao. Hãy đồng bộ để nhận danh sách.",
                "No assignments yet. Sync to receive your list.",
            ),
            Msg::NoMatches => ("Không tìm thấy hộ nào khớp.", "No household matches."),
            Msg::ReserveNotReleased => (
                "Hộ dự phòng {0} chưa được dùng. Chỉ phỏng vấn khi hộ chính thức tương ứng không phỏng vấn được.",
                "Reserve {0} is not released. Interview it only when its official household could not be interviewed.",
            ),
            Msg::AssignmentEnded => (
                "Hộ {0} đã được ghi nhận là không phỏng vấn được.",
                "{0} was recorded as not interviewed.",
            ),
            Msg::InterviewCompleted => (
                "Đã hoàn thành phỏng vấn hộ {0} và lưu trên máy. Phiếu sẽ được gửi ở lần đồng bộ tới.",
                "The interview with {0} is completed and saved on this device. It will be sent at the next sync.",
            ),
            Msg::CouldNotInterview => ("Không phỏng vấn được", "Could not interview"),
            Msg::NrReason => ("Lý do", "Reason"),
            Msg::Nr(c) => match c {
                NonResponseCode::Refused => ("Từ chối trả lời", "Refused"),
                NonResponseCode::NobodyHome => ("Không có ai ở nhà", "Nobody at home"),
                NonResponseCode::Moved => ("Đã chuyển đi nơi khác", "Moved away"),
                NonResponseCode::Ineligible => ("Không thuộc đối tượng khảo sát", "Not eligible"),
                NonResponseCode::Other => ("Lý do khác", "Other reason"),
            },
            Msg::NrNote => ("Ghi chú", "Note"),
            Msg::NrRevisit => ("Ngày hẹn quay lại", "Revisit date"),
            Msg::NrFinalNow => (
                "Với lý do này, kết quả là cuối cùng: hộ không được hẹn lại, và hộ dự phòng tương ứng (nếu có) có thể được phỏng vấn thay.",
                "With this reason the outcome is final: there is no revisit, and the matching reserve household (if any) may be interviewed instead.",
            ),
            Msg::NrRevisitHint => (
                "Hãy hẹn ngày quay lại. Nếu đến đủ số lần theo quy định mà vẫn không gặp ai, kết quả sẽ được chốt.",
                "Choose when to come back. If nobody is home after the number of visits the survey sets, the outcome becomes final.",
            ),
            Msg::NrSubmit => ("Ghi nhận", "Record"),
            Msg::NrReleased => (
                "Hộ dự phòng {0} ({1}) nay có thể được phỏng vấn.",
                "Reserve {0} ({1}) may now be interviewed.",
            ),
            Msg::NrRevisitSaved => (
                "Đã ghi nhận. Hẹn quay lại hộ {0}.",
                "Recorded. Remember to revisit {0}.",
            ),
            Msg::NrFinalSaved => (
                "Đã ghi nhận kết quả cuối cùng cho hộ {0}.",
                "The final outcome for {0} is recorded.",
            ),
            Msg::ScreenOf => ("Màn hình {0}/{1}", "Screen {0} of {1}"),
            Msg::Answered => ("Đã trả lời {0}/{1} câu", "{0} of {1} questions answered"),
            Msg::Back => ("Quay lại", "Back"),
            Msg::Next => ("Tiếp theo", "Next"),
            Msg::ReviewButton => ("Kiểm tra", "Review"),
            Msg::Leave => ("Về danh sách", "Back to list"),
            Msg::JumpToSection => ("Chuyển đến phần", "Jump to section"),
            Msg::Required => ("bắt buộc", "required"),
            Msg::ChooseOne => ("Chọn…", "Choose…"),
            Msg::Latitude => ("Vĩ độ", "Latitude"),
            Msg::Longitude => ("Kinh độ", "Longitude"),
            Msg::UseGps => ("Lấy vị trí GPS", "Use GPS"),
            Msg::GpsLocating => ("Đang lấy vị trí…", "Finding your location…"),
            Msg::GpsUnavailable => (
                "Không lấy được vị trí GPS trên máy này. Hãy nhập vĩ độ và kinh độ bằng tay.",
                "GPS is not available on this device. Type the latitude and longitude instead.",
            ),
            Msg::LocationTitle => ("Vị trí phỏng vấn", "Where the interview took place"),
            Msg::LocationHint => (
                "Không bắt buộc. Máy có GPS sẽ tự ghi; máy tính không có GPS thì nhập vĩ độ và kinh độ.",
                "Optional. A device with GPS records it by itself; on a computer without GPS, type the latitude and longitude.",
            ),
            Msg::LocationSaved => ("Đã ghi vị trí.", "Location recorded."),
            Msg::SaveLocation => ("Lưu vị trí", "Save location"),
            Msg::NotANumber => ("Hãy nhập một số.", "Enter a number."),
            Msg::NotAWholeNumber => ("Hãy nhập một số nguyên.", "Enter a whole number."),
            Msg::RowOf => ("Dòng {0}/{1}", "Row {0} of {1}"),
            Msg::AddRow => ("Thêm dòng", "Add a row"),
            Msg::RemoveRow => ("Xoá dòng này", "Remove this row"),
            Msg::ReadOnlyInterview => (
                "Phỏng vấn này đã kết thúc: chỉ xem, không sửa được.",
                "This interview has ended: you can read it but not change it.",
            ),
            Msg::GridScale => ("Thang điểm", "Scale"),
            Msg::ReviewTitle => ("Kiểm tra trước khi hoàn thành", "Check before completing"),
            Msg::ReviewNoProblems => (
                "Mọi câu bắt buộc đã được trả lời hợp lệ. Có thể hoàn thành phỏng vấn.",
                "Every required question has a valid answer. You can complete the interview.",
            ),
            Msg::ReviewProblems => (
                "Còn {0} câu cần sửa. Chạm vào từng dòng để đến câu đó.",
                "{0} questions need fixing. Tap a line to go to that question.",
            ),
            Msg::Missing => ("Chưa trả lời", "Not answered"),
            Msg::Invalid => ("Không hợp lệ", "Not valid"),
            Msg::Complete => ("Hoàn thành", "Complete"),
            Msg::BackToInterview => ("Sửa tiếp", "Keep editing"),
            Msg::SyncPending => ("Phiếu chờ gửi", "Interviews waiting to be sent"),
            Msg::SyncAcked => (
                "Phiếu máy chủ đã nhận",
                "Interviews the server has received",
            ),
            Msg::SyncLast => ("Lần đồng bộ thành công gần nhất", "Last successful sync"),
            Msg::SyncNever => ("Chưa lần nào", "Never"),
            Msg::SyncNow => ("Đồng bộ ngay", "Sync now"),
            Msg::SyncRunning => ("Đang đồng bộ…", "Syncing…"),
            Msg::SyncDone => ("Đồng bộ xong.", "Sync finished."),
            Msg::SyncLastError => (
                "Lần đồng bộ trước không thành công.",
                "The last sync failed.",
            ),
            Msg::Enumerator => ("Điều tra viên", "Enumerator"),
            Msg::Survey => ("Cuộc khảo sát", "Survey"),
            Msg::DeviceId => ("Mã thiết bị", "Device id"),
            Msg::StorePath => ("Tệp dữ liệu", "Data file"),
            Msg::SchemaVersion => ("Phiên bản cấu trúc", "Schema version"),
            Msg::ServerFixed => (
                "Địa chỉ máy chủ được cố định khi đăng ký.",
                "The server address is fixed at enrolment.",
            ),
            Msg::About => ("Giới thiệu", "About"),
            Msg::Version => ("Phiên bản", "Version"),
            Msg::LockNow => ("Khoá ứng dụng", "Lock the app"),
            Msg::AutoLockLabel => ("Tự khoá khi không dùng", "Lock when not in use"),
            Msg::AutoLockHelp => (
                "Sau từng ấy phút không thao tác, ứng dụng tự khoá và hỏi lại mã PIN.",
                "After this many minutes without a tap, the app locks itself and asks for the PIN again.",
            ),
            Msg::AutoLockMinutes => ("{0} phút", "{0} min"),
            Msg::Error(code) => error_text(code),
            Msg::Refusal(r) => refusal_text(r),
        }
    }
}

/// What happened and what to do, for each error the core can report.
fn error_text(code: ErrorCode) -> (&'static str, &'static str) {
    match code {
        ErrorCode::DataDirUnavailable => (
            "Không tìm được thư mục dữ liệu của ứng dụng. Hãy kiểm tra bộ nhớ máy còn trống, rồi mở lại ứng dụng.",
            "The app's data folder could not be found. Check that the device has free storage, then reopen the app.",
        ),
        ErrorCode::StoreUnavailable => (
            "Không mở được kho dữ liệu. Dữ liệu đã lưu không bị xoá. Hãy mở lại ứng dụng; nếu vẫn lỗi, liên hệ giám sát viên.",
            "The data store could not be opened. Nothing saved has been deleted. Reopen the app; if it still fails, call your supervisor.",
        ),
        ErrorCode::DiskFull => (
            "Bộ nhớ máy đã đầy nên câu trả lời vừa rồi chưa được lưu. Hãy xoá bớt ảnh hoặc ứng dụng khác, rồi thử lại.",
            "The device is full, so the last answer was not saved. Delete some photos or other apps, then try again.",
        ),
        ErrorCode::WrongPin => (
            "Mã PIN không đúng. Hãy nhập lại.",
            "That PIN is not right. Type it again.",
        ),
        ErrorCode::WeakPin => (
            "Mã PIN quá ngắn hoặc có ký tự không phải chữ số. Hãy chọn mã PIN có ít nhất 6 chữ số.",
            "The PIN is too short or has characters other than digits. Choose a PIN of at least 6 digits.",
        ),
        ErrorCode::Locked => (
            "Ứng dụng đang khoá. Hãy nhập mã PIN để tiếp tục.",
            "The app is locked. Type your PIN to go on.",
        ),
        ErrorCode::NotEnrolled => (
            "Máy này chưa được đăng ký. Hãy đăng ký bằng mã do giám sát viên cung cấp.",
            "This device is not enrolled yet. Enrol it with the code from your supervisor.",
        ),
        ErrorCode::EnrolmentRefused => (
            "Máy chủ không chấp nhận mã đăng ký (sai, đã dùng hoặc hết hạn). Hãy xin giám sát viên một mã mới.",
            "The server did not accept the enrolment code (wrong, already used or expired). Ask your supervisor for a new code.",
        ),
        ErrorCode::ServerUnreachable => (
            "Không kết nối được máy chủ. Các phiếu phỏng vấn vẫn an toàn trên máy này. Hãy thử lại khi có sóng hoặc Wi-Fi.",
            "The server could not be reached. Your interviews are safe on this device. Try again when you have signal or Wi-Fi.",
        ),
        ErrorCode::ServerError => (
            "Máy chủ đang gặp sự cố. Các phiếu phỏng vấn vẫn an toàn trên máy này. Hãy thử lại sau ít phút; nếu vẫn lỗi, báo giám sát viên.",
            "The server has a problem. Your interviews are safe on this device. Try again in a few minutes; if it keeps failing, tell your supervisor.",
        ),
        ErrorCode::DeviceRevoked => (
            "Máy này đã bị thu hồi quyền gửi phiếu. Đừng xoá ứng dụng; hãy liên hệ giám sát viên ngay.",
            "This device may no longer send interviews. Do not remove the app; call your supervisor now.",
        ),
        ErrorCode::InvalidServerUrl => (
            "Địa chỉ máy chủ không hợp lệ. Địa chỉ phải bắt đầu bằng http:// hoặc https://.",
            "The server address is not valid. It must start with http:// or https://.",
        ),
        ErrorCode::InsecureServerUrl => (
            "Địa chỉ máy chủ dùng http:// không được bảo vệ nên ứng dụng không kết nối. Hãy dùng địa chỉ https:// do giám sát viên cung cấp.",
            "This server address uses plain http://, which anyone on the way could read or change, so the app did not connect. Use the https:// address your supervisor gave you.",
        ),
        ErrorCode::InvalidAnswer => (
            "Câu trả lời không phù hợp với câu hỏi. Hãy kiểm tra và nhập lại.",
            "That answer does not fit the question. Check it and enter it again.",
        ),
        ErrorCode::Incomplete => (
            "Phiếu còn câu chưa trả lời hoặc chưa hợp lệ. Hãy sửa các câu trong danh sách kiểm tra.",
            "Some questions are unanswered or not valid. Fix the ones on the review list.",
        ),
        ErrorCode::ReadOnly => (
            "Phỏng vấn này đã kết thúc nên không sửa được. Hãy quay về danh sách để chọn hộ khác.",
            "This interview has ended and cannot be changed. Go back to the list to choose another household.",
        ),
        ErrorCode::NotFound => (
            "Không tìm thấy mục này trên máy. Hãy quay về danh sách và mở lại.",
            "This item was not found on the device. Go back to the list and open it again.",
        ),
        ErrorCode::QuestionnaireUnavailable => (
            "Không đọc được bảng hỏi. Hãy đồng bộ để tải lại; nếu vẫn lỗi, báo giám sát viên.",
            "The questionnaire could not be read. Sync to download it again; if it still fails, tell your supervisor.",
        ),
        ErrorCode::StoreTampered => (
            "Một phần dữ liệu trên máy đã bị thay đổi bên ngoài ứng dụng nên không được dùng. Hãy kết nối mạng và đồng bộ để tải lại từ máy chủ; nếu vẫn lỗi, báo giám sát viên ngay.",
            "Some data on this device was changed outside the app, so it was not used. Connect and sync to fetch it again from the server; if it still fails, tell your supervisor now.",
        ),
        ErrorCode::ServerNotTrusted => (
            "Câu trả lời không đến từ máy chủ của bạn (chữ ký không khớp), nên máy này không thay đổi gì. Có thể ai đó đang can thiệp vào kết nối: hãy thử lại bằng mạng khác và kiểm tra dấu vân tay máy chủ với giám sát viên.",
            "The answer did not come from your server (its signature does not match), so nothing was changed on this device. Someone may be interfering with the connection: try again on another network and check the server fingerprint with your supervisor.",
        ),
        ErrorCode::QuestionnaireUnsupported => (
            "Bảng hỏi mới trên máy chủ cần phiên bản ứng dụng mới hơn. Các phiếu đã làm vẫn an toàn. Hãy cập nhật ứng dụng rồi đồng bộ lại.",
            "The server's new questionnaire needs a newer version of the app. Your interviews are safe. Update the app, then sync again.",
        ),
        ErrorCode::InterviewsHeld => (
            "Máy chủ từ chối một số phiếu; các phiếu khác đã được gửi. Xem danh sách hộ bên dưới và báo giám sát viên.",
            "The server refused some interviews; the others were sent. See the households listed below and tell your supervisor.",
        ),
        ErrorCode::Internal => (
            "Đã xảy ra lỗi không mong muốn. Hãy thử lại; nếu vẫn lỗi, liên hệ giám sát viên.",
            "Something unexpected went wrong. Try again; if it keeps failing, call your supervisor.",
        ),
    }
}

/// Why the server refused an interview for good, one variant per refusal code of the server's
/// API (`fieldpost_proto::v1::ErrorCode`); the UI gets the code as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    QuestionnaireMismatch,
    InvalidPayload,
    WrongRecipient,
    MalformedBatch,
    ForgedSignature,
    TamperedCiphertext,
    SequenceConflict,
    ReplayFromAnotherDevice,
    PayloadTooLarge,
    Other,
}

impl Refusal {
    /// Every refusal, for the translation tests.
    #[cfg(test)]
    pub const ALL: &[Refusal] = &[
        Refusal::QuestionnaireMismatch,
        Refusal::InvalidPayload,
        Refusal::WrongRecipient,
        Refusal::MalformedBatch,
        Refusal::ForgedSignature,
        Refusal::TamperedCiphertext,
        Refusal::SequenceConflict,
        Refusal::ReplayFromAnotherDevice,
        Refusal::PayloadTooLarge,
        Refusal::Other,
    ];

    /// From the server's code as the core reports it.
    pub fn from_code(code: &str) -> Refusal {
        match code {
            "questionnaire_mismatch" => Refusal::QuestionnaireMismatch,
            "invalid_payload" => Refusal::InvalidPayload,
            "wrong_recipient" => Refusal::WrongRecipient,
            "malformed_batch" => Refusal::MalformedBatch,
            "forged_signature" => Refusal::ForgedSignature,
            "tampered_ciphertext" => Refusal::TamperedCiphertext,
            "sequence_conflict" => Refusal::SequenceConflict,
            "replay_from_another_device" => Refusal::ReplayFromAnotherDevice,
            "payload_too_large" => Refusal::PayloadTooLarge,
            _ => Refusal::Other,
        }
    }
}

/// What a refusal means for the enumerator: the interview is kept on the device; who to call.
fn refusal_text(r: Refusal) -> (&'static str, &'static str) {
    match r {
        Refusal::QuestionnaireMismatch => (
            "Phiếu làm theo phiên bản bảng hỏi mà máy chủ không có. Phiếu vẫn được giữ trên máy; sẽ tự gửi lại khi máy chủ có bảng hỏi đó. Hãy báo giám sát viên.",
            "This interview uses a questionnaire version the server does not have. It stays on the device and is sent again by itself once the server has that version. Tell your supervisor.",
        ),
        Refusal::InvalidPayload => (
            "Máy chủ không nhận nội dung phiếu này (ví dụ hộ không còn trong mẫu). Phiếu vẫn được giữ trên máy. Hãy báo giám sát viên.",
            "The server does not accept this interview's content (for example the household is no longer in the sample). It stays on the device. Tell your supervisor.",
        ),
        Refusal::WrongRecipient => (
            "Phiếu được mã hoá bằng khoá cũ của khảo sát. Ứng dụng sẽ mã hoá lại và gửi ở lần đồng bộ sau.",
            "This interview was encrypted to an old survey key. The app encrypts it again and sends it at the next sync.",
        ),
        Refusal::MalformedBatch | Refusal::TamperedCiphertext | Refusal::ForgedSignature => (
            "Máy chủ báo gói dữ liệu của phiếu bị hỏng hoặc bị thay đổi trên đường truyền. Phiếu vẫn an toàn trên máy. Hãy báo giám sát viên ngay.",
            "The server says this interview's data arrived damaged or changed on the way. The interview is safe on the device. Tell your supervisor now.",
        ),
        Refusal::SequenceConflict | Refusal::ReplayFromAnotherDevice => (
            "Máy chủ thấy gói dữ liệu trùng với một gói khác của máy này. Phiếu vẫn an toàn trên máy. Đừng cài lại ứng dụng; hãy báo giám sát viên.",
            "The server saw this data clash with another upload of this device. The interview is safe on the device. Do not reinstall the app; tell your supervisor.",
        ),
        Refusal::PayloadTooLarge => (
            "Phiếu quá lớn để gửi. Phiếu vẫn an toàn trên máy. Hãy báo giám sát viên.",
            "This interview is too large to send. It is safe on the device. Tell your supervisor.",
        ),
        Refusal::Other => (
            "Máy chủ từ chối phiếu này. Phiếu vẫn an toàn trên máy. Hãy báo giám sát viên.",
            "The server refused this interview. It is safe on the device. Tell your supervisor.",
        ),
    }
}

#[cfg(test)]
mod tests;
