//! gobwas/glob's compiler: a parsed pattern to its optimised matchers. OPA's answers
//! depend on which matchers it picks, so its heuristics are followed step by step.

use super::matcher::{BTree, Matcher, Panic};
use super::syntax::Node;

/// Compiles a parsed pattern for the delimiters `sep`.
pub fn compile(tree: &Node, sep: &[char]) -> Result<Matcher, Panic> {
    let m = match tree {
        Node::AnyOf(children) => {
            if let Some(n) = minimize_any_of(children)? {
                return compile(&n, sep);
            }
            return Ok(Matcher::AnyOf(compile_children(children, sep)?));
        }
        Node::Pattern(children) if children.is_empty() => return Ok(Matcher::Nothing),
        Node::Pattern(children) => {
            compile_matchers(minimize_matchers(compile_children(children, sep)?))
        }
        Node::Any => Matcher::Any(sep.to_vec()),
        Node::Super => Matcher::Super,
        Node::Single => Matcher::Single(sep.to_vec()),
        Node::Nothing => Matcher::Nothing,
        Node::List { chars, not } => Matcher::List {
            list: chars.chars().collect(),
            not: *not,
        },
        Node::Range { lo, hi, not } => Matcher::Range {
            lo: *lo,
            hi: *hi,
            not: *not,
        },
        Node::Text(t) => Matcher::Text(t.clone()),
    };
    Ok(optimize(m))
}

/// Each child compiled and optimised once more, as gobwas does (`compile` already
/// optimised it; a second pass can simplify what the first produced).
fn compile_children(children: &[Node], sep: &[char]) -> Result<Vec<Matcher>, Panic> {
    children
        .iter()
        .map(|c| compile(c, sep).map(optimize))
        .collect()
}

/// gobwas's `optimizeMatcher`: simpler matchers for common shapes.
fn optimize(m: Matcher) -> Matcher {
    match m {
        Matcher::Any(seps) if seps.is_empty() => Matcher::Super,
        Matcher::AnyOf(mut ms) if ms.len() == 1 => ms.remove(0),
        Matcher::List { list, not: false } if list.len() == 1 => Matcher::Text(list[0].to_string()),
        Matcher::BTree(mut tree) => {
            tree.left = tree.left.take().map(optimize);
            tree.right = tree.right.take().map(optimize);
            let Matcher::Text(text) = &tree.value else {
                return Matcher::BTree(tree);
            };
            let text = text.clone();
            match (&tree.left, &tree.right) {
                (None, None) => Matcher::Text(text),
                (Some(Matcher::Super), Some(Matcher::Super)) => Matcher::Contains {
                    needle: text,
                    not: false,
                },
                (Some(Matcher::Super), None) => Matcher::Suffix(text),
                (None, Some(Matcher::Super)) => Matcher::Prefix(text),
                (None, Some(Matcher::Suffix(suffix))) => {
                    Matcher::PrefixSuffix(text, suffix.clone())
                }
                (Some(Matcher::Prefix(prefix)), None) => {
                    Matcher::PrefixSuffix(prefix.clone(), text)
                }
                (Some(Matcher::Any(seps)), None) => Matcher::SuffixAny(text, seps.clone()),
                (None, Some(Matcher::Any(seps))) => Matcher::PrefixAny(text, seps.clone()),
                _ => Matcher::BTree(tree),
            }
        }
        m => m,
    }
}

/// gobwas's `compileMatchers`: glued when it can, else a tree around the (last) longest
/// matcher of known length.
fn compile_matchers(ms: Vec<Matcher>) -> Matcher {
    if ms.len() == 1 {
        return ms.into_iter().next().unwrap_or(Matcher::Nothing);
    }
    if let Some(m) = glue(&ms) {
        return m;
    }
    let mut best: Option<(usize, i64)> = None;
    for (i, m) in ms.iter().enumerate() {
        let l = m.len();
        if l != -1 && best.is_none_or(|(_, max)| l >= max) {
            best = Some((i, l));
        }
    }
    let mut ms = ms;
    let Some((idx, _)) = best else {
        let rest = ms.split_off(1);
        let first = ms.remove(0);
        return Matcher::BTree(Box::new(BTree::new(
            first,
            None,
            Some(compile_matchers(rest)),
        )));
    };
    let right = ms.split_off(idx + 1);
    let value = ms.remove(idx);
    let left = (!ms.is_empty()).then(|| compile_matchers(ms));
    let right = (!right.is_empty()).then(|| compile_matchers(right));
    Matcher::BTree(Box::new(BTree::new(value, left, right)))
}

fn glue(ms: &[Matcher]) -> Option<Matcher> {
    glue_as_every(ms).or_else(|| {
        row_len(ms).map(|len| Matcher::Row {
            matchers: ms.to_vec(),
            len,
        })
    })
}

/// The length of matchers of known lengths glued in a row (gobwas's
/// `glueMatchersAsRow`), built only once chosen.
fn row_len(ms: &[Matcher]) -> Option<usize> {
    if ms.len() <= 1 {
        return None;
    }
    let mut len = 0;
    for m in ms {
        len += usize::try_from(m.len()).ok()?;
    }
    Some(len)
}

/// `*`, `**`, `?` and `[!...]` next to each other with the same delimiters: counted
/// characters without a delimiter.
fn glue_as_every(ms: &[Matcher]) -> Option<Matcher> {
    if ms.len() <= 1 {
        return None;
    }
    let (mut any, mut sup, mut single, mut min) = (false, false, false, 0);
    let mut separator: Option<&[char]> = None;
    for m in ms {
        let sep: &[char] = match m {
            Matcher::Super => {
                sup = true;
                &[]
            }
            Matcher::Any(seps) => {
                any = true;
                seps
            }
            Matcher::Single(seps) => {
                single = true;
                min += 1;
                seps
            }
            Matcher::List { list, not: true } => {
                single = true;
                min += 1;
                list
            }
            _ => return None,
        };
        // Most separators are empty: skip the slice comparison's call for them.
        let first = *separator.get_or_insert(sep);
        if first.len() != sep.len() || (!sep.is_empty() && first != sep) {
            return None;
        }
    }
    let separator = separator.unwrap_or_default();
    if sup && !any && !single {
        return Some(Matcher::Super);
    }
    if any && !sup && !single {
        return Some(Matcher::Any(separator.to_vec()));
    }
    if (any || sup) && min > 0 && separator.is_empty() {
        return Some(Matcher::Min(min));
    }
    let mut every = Vec::new();
    if min > 0 {
        every.push(Matcher::Min(min));
        if !any && !sup {
            every.push(Matcher::Max(min));
        }
    }
    if !separator.is_empty() {
        every.push(Matcher::Contains {
            needle: separator.iter().collect(),
            not: true,
        });
    }
    Some(Matcher::EveryOf(every))
}

/// gobwas's `minimizeMatchers`: glues the longest gluable run, again until none is left.
/// A run glued in a row is built only once chosen (trying every run costs the cube of
/// their number).
fn minimize_matchers(ms: Vec<Matcher>) -> Vec<Matcher> {
    // The glued matcher (`None`: a row of the run's matchers), its length, the run.
    let mut done: Option<(Option<Matcher>, i64, usize, usize)> = None;
    let mut count = 0;
    for l in 0..ms.len() {
        for r in (l + 1..=ms.len()).rev() {
            let run = &ms[l..r];
            let (glued, gl) = match glue_as_every(run) {
                Some(m) => {
                    let len = m.len();
                    (Some(m), len)
                }
                None => match row_len(run) {
                    Some(len) => (None, len as i64),
                    None => continue,
                },
            };
            let swap = match &done {
                None => true,
                Some((_, cl, _, _)) => (*cl > -1 && gl > -1 && gl > *cl) || count < r - l,
            };
            if swap {
                count = r - l;
                done = Some((glued, gl, l, r));
            }
        }
    }
    let Some((glued, len, left, right)) = done else {
        return ms;
    };
    let glued = glued.unwrap_or_else(|| Matcher::Row {
        matchers: ms[left..right].to_vec(),
        len: len as usize,
    });
    let before = ms.len();
    let mut next: Vec<Matcher> = ms[..left].to_vec();
    next.push(glued);
    next.extend_from_slice(&ms[right..]);
    if next.len() == before {
        return next;
    }
    minimize_matchers(next)
}

/// gobwas's `minimizeTreeAnyOf`: alternatives that begin or end alike have the common
/// parts taken out (`{ab,ac}` is `a{b,c}`).
fn minimize_any_of(children: &[Node]) -> Result<Option<Node>, Panic> {
    let patterns: Option<Vec<&Vec<Node>>> = children
        .iter()
        .map(|c| match c {
            Node::Pattern(p) => Some(p),
            _ => None,
        })
        .collect();
    let Some(patterns) = patterns else {
        return Ok(None);
    };
    let (common_left, common_right) = common_children(&patterns);
    if common_left.is_empty() && common_right.is_empty() {
        return Ok(None);
    }
    let mut result = Vec::new();
    if !common_left.is_empty() {
        result.push(Node::Pattern(common_left.clone()));
    }
    let mut any_of: Vec<Node> = Vec::new();
    for p in &patterns {
        let end = p.len().checked_sub(common_right.len()).ok_or(Panic)?;
        let reuse = p.get(common_left.len()..end).ok_or(Panic)?;
        let node = if reuse.is_empty() {
            Node::Nothing
        } else {
            Node::Pattern(reuse.to_vec())
        };
        if !any_of.contains(&node) {
            any_of.push(node);
        }
    }
    if any_of.len() == 1 && any_of[0] != Node::Nothing {
        result.push(any_of.remove(0));
    } else if any_of.len() > 1 {
        result.push(Node::AnyOf(any_of));
    }
    if !common_right.is_empty() {
        result.push(Node::Pattern(common_right));
    }
    Ok(Some(Node::Pattern(result)))
}

/// gobwas's `commonChildren`: the nodes every pattern starts with and ends with, read
/// against the pattern with the fewest.
fn common_children(nodes: &[&Vec<Node>]) -> (Vec<Node>, Vec<Node>) {
    let (mut left, mut right_at) = (Vec::new(), Vec::new());
    if nodes.len() <= 1 {
        return (left, right_at);
    }
    // The first of the shortest.
    let mut idx = 0;
    for (i, n) in nodes.iter().enumerate() {
        if n.len() < nodes[idx].len() {
            idx = i;
        }
    }
    let tree = nodes[idx];
    let tree_len = tree.len();
    let mut right: Vec<Option<Node>> = vec![None; tree_len];
    let mut last_right = tree_len;
    let (mut break_left, mut break_right, mut total) = (false, false, 0);
    let (mut i, mut j) = (0usize, tree_len as isize - 1);
    while total < tree_len && j >= 0 && !(break_left && break_right) {
        let ju = j as usize;
        let (tree_left, tree_right) = (&tree[i], &tree[ju]);
        for (k, node) in nodes.iter().enumerate() {
            if break_left && break_right {
                break;
            }
            if k == idx {
                continue;
            }
            let rest_left = &node[i];
            let rest_right = &node[ju + node.len() - tree_len];
            break_left = break_left || tree_left != rest_left;
            // Right parts may not overlap left ones already taken.
            break_right = break_right || (!break_left && ju <= i);
            break_right = break_right || tree_right != rest_right;
        }
        if !break_left {
            total += 1;
            left.push(tree_left.clone());
        }
        if !break_right {
            total += 1;
            last_right = ju;
            right[ju] = Some(tree_right.clone());
        }
        i += 1;
        j -= 1;
    }
    right_at = right.into_iter().skip(last_right).flatten().collect();
    (left, right_at)
}
