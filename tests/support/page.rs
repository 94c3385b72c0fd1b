//! What the tests read from the example site's pages, whichever framework
//! serves them.

/// The CSRF token of the page's first form.
pub(crate) fn csrf(page: &str) -> String {
    let start = page.find("name=csrf value=").expect("a CSRF field") + "name=csrf value=".len();
    page[start..]
        .split(['>', ' '])
        .next()
        .expect("a value")
        .to_owned()
}
