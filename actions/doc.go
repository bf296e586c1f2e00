// Package actions is the GitHub Actions glue of storesign: it reads the
// inputs a composite action maps through env:, masks every secret and every
// value derived from one before anything else is printed, sets step outputs,
// writes annotations a planner can act on, and renders the Markdown step
// summary of a signing run.
//
// Start with [New], then [Action.SecretInput] or [Action.Base64Input] for
// each secret (which masks it), [Action.Input] for the rest, and
// [Action.Fail] for errors: an [*InputError] becomes an annotation titled
// with the input to fix. [Report] is what a run found and did; its
// [Report.Markdown] is the step summary table. [Detect] tells an IPA from
// an APK and an app bundle by their contents, [ReadAppInfo] reads the
// app's name, identifier and version for the summary, and
// [Action.NewSecretsDir] and [WriteSecret] keep decoded secrets in a
// private folder of the runner's temp folder that [RemoveSecretsDir]
// removes.
//
// The steps themselves are library calls: [Secrets], [Download],
// [Resign], [Upload], [Plan], [PlayUpload] and [AppStoreUpload], which
// "storesign action secrets|download|resign|upload|plan|play-upload|
// appstore-upload" make for the composite action.yml files. Each reads
// its inputs, checks them, masks the secrets, writes outputs, annotations
// and the summary, and on failure returns a [*StepError] after writing
// the annotation. STORESIGN_ACTION says which action runs the step
// (release, resign-ipa, resign-apk, drive-download, drive-upload, plan,
// play-upload, appstore-upload): it decides which inputs are required,
// and how they are named (the release's store inputs are play-* and
// asc-*).
//
// A release puts the signed build where its [Layout] says, by default
// "<app>/<version> (<build>)/<app>-<version>-<build>.<ext>" under the
// output folder, and a re-run of the same build replaces that upload as a
// new Drive revision. Each upload records the delivery it came from
// ([SourceProperty]); [ListBuilds] and [Plan] use it to find the builds of
// a deliveries folder not released yet, for a batch workflow's matrix.
//
// Errors speak the planner's words: the planner-names input
// ([PlannerNamesInput]) says which secret, variable or workflow field
// feeds each input, and annotations and the step summary name that.
//
// Text from outside (file names from Drive, an app's name from its
// Info.plist) cannot issue workflow commands or forge outputs:
// [Action.SetOutput] writes each value between random delimiters,
// [Action.Infof] defuses lines that would read as commands, and
// [MarkdownText] escapes text for the step summary.
//
// The package is built on github.com/sethvargo/go-githubactions, whose file
// commands panic when GITHUB_OUTPUT or GITHUB_STEP_SUMMARY are unset or
// cannot be written: Action writes those files itself and returns errors,
// and outside a runner prints the values to the log instead (secrets
// masked), so the same commands run anywhere.
//
// Composite actions do not receive INPUT_* variables by themselves; each
// action.yml maps its inputs into the environment, named as the runner
// would name them with dashes turned into underscores: input "p12-password"
// is read from INPUT_P12_PASSWORD.
//
// Only this package and cmd/storesign import the Actions toolkit; the
// signing and drive libraries know nothing of it.
package actions
