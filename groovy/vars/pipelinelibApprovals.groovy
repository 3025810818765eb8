import io.pipelinelib.Args

/**
 * Approvals of this deploy build (JOB_NAME#BUILD_NUMBER) to a protected environment, recorded in
 * the store. request: true records the request (the requester is BUILD_USER_ID, which the CLI
 * reads); check: true fails the build unless the declared number of approvals, by people other
 * than the requester, are recorded. Approvers approve with their own token:
 * `pipelinelib approve ENV --deployment JOB#N`.
 *
 *   pipelinelibApprovals(environment: 'live', request: true)
 *   pipelinelibApprovals(environment: 'live', check: true)
 */
def call(Map args = [:]) {
    String problem = Args.problemWithPattern(args.environment, Args.SERVICE_PATTERN, 'environment name') ?:
        Args.problemWithJob(env.JOB_NAME) ?: Args.problemWithBuildNumber(env.BUILD_NUMBER)
    if (problem == null && !(args.request || args.check)) {
        problem = 'give request: true or check: true'
    }
    if (problem != null) {
        error("pipelinelibApprovals: ${problem}")
    }
    String deployment = "--deployment=${env.JOB_NAME}#${env.BUILD_NUMBER}".toString()
    if (args.request) {
        pipelinelibCli(['request-approval', args.environment.toString(), deployment])
    }
    if (args.check) {
        pipelinelibCli(['approvals', args.environment.toString(), deployment, '--check'])
    }
}
