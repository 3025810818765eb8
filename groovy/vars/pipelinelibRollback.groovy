import io.pipelinelib.Args

/**
 * rollback: re-deploys an environment's previous good deployment (or `to`, JOB#NUMBER) exactly,
 * pinned by digest, through the promotion's own steps (import, verify-images, orchestrate apply,
 * wait-rollout, record-deployment --kind rollback) while holding the environment's lock. dryRun:
 * true prints the diff and the commands and changes nothing.
 *
 *   pipelinelibRollback(environment: 'live', reason: 'checkout errors after #14', dryRun: true)
 */
def call(Map args = [:]) {
    String problem = Args.problemWithPattern(args.environment, Args.SERVICE_PATTERN, 'environment name') ?:
        (args.reason?.toString()?.trim() ? Args.problemWithText(args.reason, 'rollback reason') : 'a rollback reason is required')
    if (problem == null && args.to) {
        problem = Args.problemWithText(args.to, 'deployment to roll back to')
    }
    if (problem == null && args.root != null) {
        problem = Args.problemWithPattern(args.root, Args.RELATIVE_DIR_PATTERN, 'terraform root')
    }
    if (problem != null) {
        error("pipelinelibRollback: ${problem}")
    }
    List<String> argv = ['rollback', "--environment=${args.environment}".toString(),
                         "--reason=${args.reason}".toString()]
    if (args.to) {
        argv << "--to=${args.to}".toString()
    }
    if (args.root != null) {
        argv << "--root=${args.root}".toString()
    }
    if (args.dryRun == true) {
        argv << '--dry-run'
    }
    pipelinelibCli(argv)
}
