// Package filter is the flespi expression language: parse an expression
// once, compile it, and evaluate it many times over raw JSON bytes, a
// [protocol.Message] or any [Source]. It also parses MQTT subscription
// filters with flespi's $filter prefix ([ParseTopicFilter]).
//
//	x, err := filter.CompileFilter(`position.speed>60 && engine.ignition.status==true`)
//	…
//	if x.MatchJSON(payload, nil) { … }     // 0 allocations, no unmarshalling
//
// A compiled [Expr] is immutable and safe for concurrent use. Its String
// method prints the canonical form, and compiling that form again gives the
// same program.
//
// # Semantics
//
// As flespi documents them (flespi.com/kb/expressions and the flespi forum
// changelogs):
//
//   - Every number is a float64, so integers are exact up to 2^53; keep
//     larger identifiers as strings. Literals: decimal (1, 2.5, 1e3), hex
//     (0x1F), strings in '…' or "…" (escapes \\ \" \' \n \r \t), true, false,
//     null.
//   - Operators have C's precedence and associate to the left, from the
//     tightest: multiplicative (* / %), additive (+ -), shifts (<< >>),
//     relational (< <= > >=), equality (== !=), &, ^, |, &&, ||.
//     Unary - and ~. Inversion is not(x) and the conditional is
//     if(cond, a, b), which evaluates only the chosen branch; there is no !
//     and no ?: (flespi's knowledge base is followed where its newer AI
//     skill file disagrees). [CompileFilter] and [Config.LooseEquals]
//     accept a single = as ==, as flespi's REST filters, selectors and
//     $filter topics do; [Compile] rejects it.
//   - Comparisons cast null and false to 0 and true to 1, and a numeric string
//     to its number, then compare numbers. Two strings compare as text; with
//     == and != the string literal operand (or else the right operand) is a
//     pattern where * matches any run of characters and ? one character
//     (see [Glob]: linear, never backtracking).
//   - Arithmetic (+ - * / %) and bitwise operators (& | ^ << >> ~, on values
//     truncated to int64) take numbers only: mixing types is an error, and so
//     is a boolean operand of a bitwise operator, which keeps flespi's
//     retired logical '|' and '&' (a=1|b=2) from silently meaning || and &&.
//     Null in arithmetic, and in the numeric functions, gives null:
//     abs($speed)>=0 holds when speed is absent, as the knowledge base says.
//     Division or modulo by zero is an error.
//   - A bare parameter name that is absent is an error; $name gives null
//     instead. && and || short-circuit and give booleans; an error operand
//     that is reached makes them an error.
//   - In a boolean context — [Expr.Match], filters, selectors, $filter —
//     only a non-zero number or true is true: zero, false, null, a string, a
//     JSON value and any error are false. [Expr.Eval] returns the value
//     itself, and an error value carries its reason ([Value.Err]).
//
// # Names
//
// A name may contain dots and '#' ("position.speed", "ain#2"). Over a
// message ([Expr.EvalJSON], [Expr.EvalMessage]) it is a flat key, looked up
// literally. Over a REST object ([Expr.EvalObject]) it is a path:
// "configuration.ident" is the member ident of configuration, a member may
// itself be named with dots ("telemetry.position.speed" reaches
// {"telemetry":{"position.speed":…}}; members are tried in document order and
// the first that resolves wins), and a number segment indexes an array. json(value, key|index) reaches inside JSON values: by member name,
// or by 0-based position (objects in document order); json('name', k) and
// exists('name') take a parameter's name as a string literal. x[k] is
// json(x, k).
//
// # Functions
//
// not if error abs exists json metadata tonumber toboolean tobool tostring
// isnull isnumber isstring isboolean isjson month day hour minute now
// distance round floor ceil min max sqrt pow; [Catalogue] lists them with
// usage, description and argument counts. The embedding program adds its own
// (flespi's previous, mileage, geofence…) with [Config.Funcs]. now() and the
// time zone of the date functions come from the [Env] given to an
// evaluation: build one Env per batch, so that now() is fixed for the batch.
// distance() is in kilometres.
//
// # Evaluating raw JSON
//
// The field names a program reads are known at compile time ([Expr.Fields]).
// EvalJSON makes one pass over the object, resolving every field at once and
// stopping when all are found; it does not unmarshal, and MatchJSON does
// not allocate. Strings without escapes alias the input during evaluation;
// EvalJSON copies a string result before returning it.
//
// The pass reads bit masks of the document, 64 bytes at a time (SSE2 or
// AVX2 on amd64, plain Go elsewhere or with the purego build tag), rather
// than its bytes: while no backslash, bracket or space before a ':' has been
// met, a quote directly followed by ':' ends a key, so it visits key ends
// only, and a key is looked at only if a filter of the fields' lengths and
// last eight bytes lets it through. A 1 KB flespi message with three fields
// takes about 300 ns. Past such a byte it hops between quotes and brackets,
// and past a backslash it reads the bytes. On valid JSON the pass finds
// exactly what a member-by-member iteration finds (FuzzFillAgrees); on
// malformed JSON it may stop earlier or later than that iteration, and never
// panics or reads outside the input (FuzzEvalJSON).
//
// # $filter topics
//
// [ParseTopicFilter] splits "[$share/group/]$filter/spec/topic" into the share
// group, the MQTT topic filter and the conditions; [TopicFilter.Match] checks
// a [TopicMessage] against the conditions and [MatchTopic] does MQTT topic
// matching (with flespi's comma lists). The package knows nothing of MQTT
// connections: the broker calls it.
//
// # Limits and errors
//
// Parsing is bounded by [Limits] (input size, nesting depth, node count,
// string length): a hostile expression gets an error, never a stack
// overflow. Evaluation is bounded by a step budget ([Limits.MaxSteps],
// [DefaultMaxSteps] = 2 Mi steps, a few milliseconds): a wildcard pattern's
// cost is the product of its length and the string's, and a 1 KB pattern
// against a 1 MB payload would otherwise take seconds. Past the budget an
// evaluation gives up and does not match; [Expr.Check], [Expr.CheckJSON],
// [Expr.CheckObject] and [TopicFilter.Check] report it as [ErrBudget], Eval
// as an error value, and a [Budget] may be shared by the evaluations of one
// decision. Syntax errors are [*SyntaxError] values with offset, line and
// column ("unexpected ')' (1:14)") and a caret [SyntaxError.Snippet]; they
// wrap [ErrSyntax], [ErrLimit], [ErrUnknownFunction] or [ErrArgCount].
//
// # Decisions and deviations
//
// Where flespi's documents are silent, contradict each other, or describe an
// older engine, this package decides as follows. Each line names the case in
// testdata/flespi-expressions.jsonl it concerns, if any.
//
//   - "accelerations" (an array parameter): the older knowledge base says such
//     a reference makes evaluation impossible; the current one allows JSON
//     results. We return the JSON value; use json() to look inside.
//   - "param1" (the bare existence check retired in 2019) compiles and
//     evaluates to the parameter's value, but a string is false in a boolean
//     context, so as a filter it never passes: the observable effect of
//     flespi's "invalid". Strings are false in boolean contexts in general
//     (the older knowledge base's "any valid string is 1" is not followed).
//   - "field1=1|field1=100" (the retired '|' separator) compiles, since | is
//     C's bitwise OR, but bitwise operators refuse booleans, so evaluation is
//     an error and the filter never passes. "email=123@gmail.com" and
//     "param1!=" are syntax errors, as flespi's "invalid" says.
//   - exists() returns true or false (flespi's newer engine), which compare
//     equal to the 1 and 0 of the older text.
//   - mileage(), previous(), geofence() and other calculator functions are
//     not built in; the embedding program adds them with [Config.Funcs] (the
//     vector test adds mileage() as a function that fails, so the lazy if()
//     in the forum's example shows it is never called).
//   - "hour(begin)>8": date functions use [Env.Location], UTC when nil, which
//     is what the vector's derived result assumes.
//   - metadata() reads [Env.Metadata]; the vector's "__metadata" context
//     member is test scaffolding for it.
//   - !, ?: and the "~" wildcard operator appear only in flespi's AI skill
//     file, which contradicts the knowledge base; they are not implemented
//     and ~ is C's bitwise NOT.
//   - String concatenation with + is unconfirmed and is a type error.
//   - A comparison between a string and a non-string casts the string to a
//     number; a non-numeric string makes it an error. So $x != "abc" with x
//     absent is an error (false), not true.
//   - json(v, k) and v[k] give null for an absent member or index.
//   - Wildcard patterns have no escape: '*' and '?' are always wildcards.
//   - $filter: modified_since=T (from the original task statement) means at
//     or after T, modified_since>T (flespi's skill file) strictly after;
//     several specs may share a level joined by '&', and $filter levels may
//     repeat; all must hold. The MQTT 5 "cid" SUBSCRIBE property and
//     subscription identifiers are the broker's business.
//   - distance() returns kilometres (flespi's mileage unit; unconfirmed).
package filter
