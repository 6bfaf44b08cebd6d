//! Searching the assignment list the way enumerators type: without diacritics.
//!
//! On a phone keyboard "nguyen van duc" is quicker than "Nguyễn Văn Đức"; both must find the same
//! household. Folding is a table of Vietnamese letters, not Unicode decomposition: it needs no
//! tables from a crate and covers đ, which has no decomposition.

/// Each base letter and the accented letters that fold to it (lower case).
const FOLDS: [(char, &str); 6] = [
    ('a', "àáảãạăằắẳẵặâầấẩẫậ"),
    ('e', "èéẻẽẹêềếểễệ"),
    ('i', "ìíỉĩị"),
    ('o', "òóỏõọôồốổỗộơờớởỡợ"),
    ('u', "ùúủũụưừứửữự"),
    ('y', "ỳýỷỹỵ"),
];

/// Lower case without Vietnamese diacritics: "Đặng Thị Ánh" -> "dang thi anh".
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| {
            if c == 'đ' {
                return 'd';
            }
            FOLDS
                .iter()
                .find(|(_, accented)| accented.contains(c))
                .map_or(c, |(base, _)| *base)
        })
        .collect()
}

/// True when every word of `query` occurs in one of `fields`, ignoring case and diacritics.
pub fn matches(query: &str, fields: &[&str]) -> bool {
    let hay: Vec<String> = fields.iter().map(|f| fold(f)).collect();
    fold(query)
        .split_whitespace()
        .all(|word| hay.iter().any(|h| h.contains(word)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_letters_and_case() {
        assert_eq!(fold("Đặng Thị Ánh"), "dang thi anh");
        assert_eq!(fold("Nguyễn Văn Đức"), "nguyen van duc");
        assert_eq!(fold("Thôn Phú Mỹ, Xã Ỷ La"), "thon phu my, xa y la");
    }

    #[test]
    fn finds_by_any_field_without_diacritics() {
        let fields = ["Nguyễn Văn Đức", "12 Lê Lợi", "Thôn Đông"];
        assert!(matches("duc", &fields));
        assert!(matches("le loi thon dong", &fields));
        assert!(matches("", &fields));
        assert!(!matches("hoa", &fields));
    }
}
