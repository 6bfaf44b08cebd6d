//! The function table: which names exist, how many arguments they take, and which ODK functions
//! FieldPost refuses (by name, at import, never by silently evaluating to something).

macro_rules! funcs {
    ($($variant:ident = $name:literal, $min:literal, $max:expr;)*) => {
        /// A supported function.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Func { $($variant,)* }

        const TABLE: &[(&str, Func, usize, usize)] = &[$(($name, Func::$variant, $min, $max),)*];
    };
}

const MANY: usize = usize::MAX;

funcs! {
    If = "if", 3, 3;
    Coalesce = "coalesce", 2, 2;
    Once = "once", 1, 1;
    Selected = "selected", 2, 2;
    IsSelected = "is-selected", 2, 2;
    SelectedAt = "selected-at", 2, 2;
    CountSelected = "count-selected", 1, 1;
    ChoiceName = "jr:choice-name", 2, 2;
    Concat = "concat", 0, MANY;
    Join = "join", 1, MANY;
    Substr = "substr", 2, 3;
    Substring = "substring", 2, 3;
    SubstringBefore = "substring-before", 2, 2;
    SubstringAfter = "substring-after", 2, 2;
    Translate = "translate", 3, 3;
    Contains = "contains", 2, 2;
    StartsWith = "starts-with", 2, 2;
    EndsWith = "ends-with", 2, 2;
    StringLength = "string-length", 0, 1;
    NormalizeSpace = "normalize-space", 0, 1;
    Regex = "regex", 2, 2;
    Int = "int", 1, 1;
    Round = "round", 1, 2;
    Number = "number", 0, 1;
    Boolean = "boolean", 1, 1;
    BooleanFromString = "boolean-from-string", 1, 1;
    String = "string", 0, 1;
    Sum = "sum", 1, 1;
    Count = "count", 1, 1;
    CountNonEmpty = "count-non-empty", 1, 1;
    Min = "min", 1, MANY;
    Max = "max", 1, MANY;
    Position = "position", 0, 1;
    Last = "last", 0, 0;
    IndexedRepeat = "indexed-repeat", 3, 7;
    Pulldata = "pulldata", 4, 4;
    Instance = "instance", 1, 1;
    Current = "current", 0, 0;
    Today = "today", 0, 0;
    Now = "now", 0, 0;
    Date = "date", 1, 1;
    DateTime = "date-time", 1, 1;
    FormatDate = "format-date", 2, 2;
    FormatDateTime = "format-date-time", 2, 2;
    DecimalDateTime = "decimal-date-time", 1, 1;
    DecimalTime = "decimal-time", 1, 1;
    Uuid = "uuid", 0, 1;
    Random = "random", 0, 0;
    Digest = "digest", 2, 3;
    Area = "area", 1, 1;
    Distance = "distance", 1, MANY;
    True = "true", 0, 0;
    False = "false", 0, 0;
    Not = "not", 1, 1;
    Floor = "floor", 1, 1;
    Ceiling = "ceiling", 1, 1;
    Abs = "abs", 1, 1;
    Pow = "pow", 2, 2;
    Log = "log", 1, 1;
    Log10 = "log10", 1, 1;
    Exp = "exp", 1, 1;
    Exp10 = "exp10", 1, 1;
    Sqrt = "sqrt", 1, 1;
    Sin = "sin", 1, 1;
    Cos = "cos", 1, 1;
    Tan = "tan", 1, 1;
    Asin = "asin", 1, 1;
    Acos = "acos", 1, 1;
    Atan = "atan", 1, 1;
    Atan2 = "atan2", 2, 2;
    Pi = "pi", 0, 0;
}

/// Functions of ODK's XPath (or of XPath 1.0) that FieldPost does not evaluate. They are named
/// here so a form that uses one is refused with "function X is not supported" rather than the
/// vaguer "unknown function".
const UNSUPPORTED: &[&str] = &[
    "checklist",
    "weighted-checklist",
    "randomize",
    "base64-decode",
    "extract-signed",
    "geofence",
    "local-name",
    "name",
    "namespace-uri",
    "lang",
    "id",
    "text",
    "node",
    "comment",
    "processing-instruction",
    "jr:itext",
    "jr:count-selected",
    "dependent-exists",
];

pub(crate) enum Lookup {
    Found { func: Func, min: usize, max: usize },
    Unsupported,
    Unknown,
}

pub(crate) fn lookup(name: &str) -> Lookup {
    if let Some(&(_, func, min, max)) = TABLE.iter().find(|(n, ..)| *n == name) {
        return Lookup::Found { func, min, max };
    }
    if UNSUPPORTED.contains(&name) {
        Lookup::Unsupported
    } else {
        Lookup::Unknown
    }
}

impl Func {
    pub(crate) fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(_, f, ..)| *f == self)
            .map_or("?", |(n, ..)| n)
    }

    /// Whether the result may change without any field changing (time, randomness, ids): the
    /// interview state must not cache such an expression as if it were pure.
    pub(crate) fn is_volatile(self) -> bool {
        matches!(self, Func::Now | Func::Today | Func::Random | Func::Uuid)
    }
}

/// Every function name FieldPost evaluates, for documentation and error hints.
pub fn supported_functions() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(n, ..)| *n)
}
