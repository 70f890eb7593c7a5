// Package selector implements flespi's REST selectors: the {selector}
// segment of paths such as /gw/devices/{selector}, the fields projection,
// limit/offset pagination, and a [Query] that applies all three to a
// collection of JSON items and answers in flespi's shape.
//
//	segs, _ := selector.SplitPath(r.URL.EscapedPath())   // "/" inside {…} is division
//	q, err := selector.ParseQuery(segs[2], r.URL.Query()) // ?fields=id,name&limit=10
//	…
//	w.Write(q.Apply(devices))                            // {"result":[…],"pagination":{…}}
//
// # Selectors
//
//	all                          every item
//	1,2,5                        items whose "id" is listed
//	configuration.ident=1234*    the value at a dotted path matches a pattern
//	protocol_name!=teltonika     … or does not
//	metadata.fleet_id=10         numbers compare numerically with a number
//	{name=="my tracker" || device_type_id==42}   a flespi expression (package filter)
//
// Comma-separated terms are ANDed; bare ids form one set (flespi: "logical
// AND condition is applied to comma-separated lists of values"; reading the
// ids as a set is our interpretation, since an item has one id). Patterns use
// * (any run of characters) and ? (one character), matched without
// backtracking ([filter.Glob]). A pattern may be quoted to hold a comma. A
// path is nested ("configuration.ident" is the ident member of
// configuration); a member may itself be named with dots, so
// "telemetry.position.speed" reaches {"telemetry":{"position.speed":…}}; an
// array on the way matches when any element does ("groups.id=12"). A
// missing path never matches, with = or !=. Expression terms accept a single
// = as ==, and are false when they fail to evaluate.
//
// Matching one item has a step budget shared by its terms (see
// filter.Budget; [ParseConfig] sets it, the default is
// filter.DefaultMaxSteps, a few milliseconds): a 1 KB pattern against a
// 1 MB value would otherwise cost their product. An item the selector gives
// up on is not selected; [Selector.Check] reports it as filter.ErrBudget.
//
// Selectors, fields lists and paths are limited to [MaxLen] bytes. Errors are
// *filter.SyntaxError values with offset, line and column, wrapping
// [ErrSyntax], [ErrTooLong] or a filter sentinel.
//
// A [Selector] is immutable and safe for concurrent use; String gives its
// canonical form.
//
// # Decisions
//
//   - Bare ids form a set and every other term is ANDed (see above).
//   - "all" combined with other terms adds nothing; String drops it.
//   - The knowledge base's wildcard examples (FM?640, 86435*) do not name
//     their field; the tests use them as values of path terms.
//   - fields accepts dotted paths and keeps the parents ("configuration.ident"
//     gives {"configuration":{"ident":…}}), beyond flespi's flat field names.
//   - [Query.Apply] always includes "pagination"; limit 0 means no limit.
//   - Numbers in selectors are float64 like everywhere in flespi expressions;
//     ids above 2^53 do not compare exactly.
package selector
