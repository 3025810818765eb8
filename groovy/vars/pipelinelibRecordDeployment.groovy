import io.pipelinelib.Args

/**
 * record-deployment: after a successful apply, records this deploy build with the imported
 * manifest unchanged and re-archives it as output/*.env.groovy + output/manifest.json, which
 * this step archives (downstream promotions import them through the store). The output directory
 * is cleared first, so files an earlier build left there are never archived as this one's.
 *
 *   pipelinelibRecordDeployment(environment: 'test', displayName: currentBuild.displayName)
 *
 * Options: environment (required), importDir ('import'), outputDir ('output'), displayName,
 * job, build, rollout (the file pipelinelibWaitRollout(output: ...) wrote), destroyed (true
 * records that the environment runs nothing, for destroy-test), archive (true); promotion
 * control (docs/promotion.md): reason, skipOrder (true: a hotfix skipping the declared upstream,
 * needs reason), overrideFreeze (true: inside a freeze window, needs reason); check (true: run
 * every check the store would make - order, lock, freeze, approvals - and record, clear and
 * archive nothing; deploy jobs run it before they apply); startedAt (milliseconds since the
 * epoch; default currentBuild.startTimeInMillis, workflow-support RunWrapper) for the history's
 * duration.
 */
def call(Map args = [:]) {
    String importDir = args.importDir ?: 'import'
    String outputDir = args.outputDir ?: 'output'
    String problem = Args.problemWithPattern(args.environment, Args.SERVICE_PATTERN, 'environment name') ?:
        Args.problemWithPattern(importDir, Args.RELATIVE_DIR_PATTERN, 'import directory') ?:
        Args.problemWithPattern(outputDir, Args.RELATIVE_DIR_PATTERN, 'output directory')
    if (problem == null && args.job != null) {
        problem = Args.problemWithJob(args.job)
    }
    if (problem == null && args.build != null) {
        problem = Args.problemWithBuildNumber(args.build)
    }
    if (problem == null && args.rollout != null) {
        problem = Args.problemWithPattern(args.rollout, Args.RELATIVE_DIR_PATTERN, 'rollout file')
    }
    if (problem == null && args.reason != null) {
        problem = Args.problemWithText(args.reason, 'reason')
    }
    if (problem == null && (args.skipOrder || args.overrideFreeze) && !args.reason) {
        problem = 'skipOrder and overrideFreeze need a reason'
    }
    Object startedAt = args.startedAt != null ? args.startedAt : currentBuild.startTimeInMillis
    if (problem == null && !(startedAt.toString() ==~ '^[0-9]{1,15}$')) {
        problem = 'startedAt must be milliseconds since the epoch'
    }
    if (problem != null) {
        error("pipelinelibRecordDeployment: ${problem}")
    }
    List<String> argv = ['record-deployment', "--environment=${args.environment}".toString(),
                         "--import-dir=${importDir}".toString(), "--output-dir=${outputDir}".toString()]
    ['job', 'build'].each { key ->
        if (args[key] != null) {
            argv << "--${key}=${args[key]}".toString()
        }
    }
    if (args.displayName != null) {
        argv << "--display-name=${args.displayName}".toString()
    }
    if (args.rollout != null) {
        argv << "--rollout=${args.rollout}".toString()
    }
    if (args.destroyed == true) {
        argv << '--destroyed'
    }
    argv << "--started-at=${startedAt}".toString()
    if (args.reason != null) {
        argv << "--reason=${args.reason}".toString()
    }
    if (args.skipOrder == true) {
        argv << '--skip-order'
    }
    if (args.overrideFreeze == true) {
        argv << '--override-freeze'
    }
    if (args.check == true) {
        argv << '--check'
        pipelinelibCli(argv)
        return
    }
    // Only what this call writes may be archived: files an earlier build left are removed first.
    dir(outputDir) {
        deleteDir()
    }
    pipelinelibCli(argv)
    if (args.archive != false) {
        archiveArtifacts(artifacts: "${outputDir}/*.env.groovy,${outputDir}/manifest.json", fingerprint: true)
    }
}
