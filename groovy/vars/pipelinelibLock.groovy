import io.pipelinelib.Args

/**
 * lock: takes the store's lock of an environment for this build (holder JOB_NAME#BUILD_NUMBER,
 * which the CLI reads), so other deployments, rollbacks and destroys of it are refused with who
 * holds it and why. With a body, the lock is released when the body ends, also when it fails;
 * without one, release it with pipelinelibUnlock (e.g. in a stage's post { always }). A crashed
 * build's lock expires after ttl.
 *
 *   pipelinelibLock(environment: 'live', reason: "deploy-live #${env.BUILD_NUMBER}", ttl: '2h') {
 *       ...
 *   }
 */
def call(Map args = [:], Closure body = null) {
    String problem = Args.problemWithPattern(args.environment, Args.SERVICE_PATTERN, 'environment name') ?:
        (args.reason?.toString()?.trim() ? Args.problemWithText(args.reason, 'lock reason') : 'a lock reason is required')
    if (problem == null && args.ttl != null) {
        problem = Args.problemWithDuration(args.ttl)
    }
    if (problem != null) {
        error("pipelinelibLock: ${problem}")
    }
    List<String> argv = ['lock', "--reason=${args.reason}".toString()]
    if (args.ttl != null) {
        argv << "--ttl=${args.ttl}".toString()
    }
    argv << args.environment.toString()
    pipelinelibCli(argv)
    if (body == null) {
        return null
    }
    try {
        return body()
    } finally {
        pipelinelibUnlock(environment: args.environment)
    }
}
