//! The default `title` of an uploaded file: its name made readable the way Directus's
//! `format-title` does it — camelCase and `-`/`_`/space separated words split apart, each word
//! capitalised, well-known acronyms upper-cased, short connecting words lower-cased unless first
//! or last (`my-photo_of-the_API` → `My Photo of the API`).

/// Written in capitals wherever they appear.
const ACRONYMS: &[&str] = &[
    "2D", "3D", "4K", "API", "CMS", "CSS", "CSV", "DNS", "FAQ", "GIF", "GPS", "HD", "HTML", "HTTP", "HTTPS", "ID", "IP", "JPEG", "JPG", "JS", "JSON",
    "PDF", "PNG", "SEO", "SQL", "SSL", "SVG", "UI", "URL", "USB", "UUID", "UX", "XML",
];

/// Lower-cased between the first and the last word.
const SMALL_WORDS: &[&str] = &["a", "an", "and", "as", "at", "but", "by", "for", "in", "nor", "of", "on", "or", "the", "to", "via", "vs"];

/// Puts a space at lower→upper and acronym→word boundaries (`myAPIKey` → `my API Key`).
fn decamelize(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && c.is_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push(' ');
            }
        }
        out.push(c);
    }
    out
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

pub fn format_title(name: &str) -> String {
    let spaced = decamelize(name);
    let words: Vec<&str> = spaced.split(|c: char| c.is_whitespace() || c == '-' || c == '_').filter(|w| !w.is_empty()).collect();
    let last = words.len().saturating_sub(1);
    words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            let upper = word.to_uppercase();
            let lower = word.to_lowercase();
            if ACRONYMS.contains(&upper.as_str()) {
                upper
            } else if i != 0 && i != last && SMALL_WORDS.contains(&lower.as_str()) {
                lower
            } else {
                capitalise(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::format_title;

    #[test]
    fn titles_like_directus() {
        assert_eq!(format_title("my-holiday_photo"), "My Holiday Photo");
        assert_eq!(format_title("the-end-of-the-road"), "The End of the Road");
        assert_eq!(format_title("userAPIKey"), "User API Key");
        assert_eq!(format_title("report 2021"), "Report 2021");
        assert_eq!(format_title("cat.png"), "Cat.png");
    }
}
