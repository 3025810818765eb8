/**
 * environments: the repository's pipelinelib.toml as `pipelinelib environments --json` prints it
 * (order, upstream, stack, protected, approvals, freeze windows). Jenkinsfiles ask
 * io.pipelinelib.Environments about this map instead of naming environments themselves.
 *
 *   Map environments = pipelinelibEnvironments()
 *   boolean needsApproval = Environments.isProtected(environments, params.ENVIRONMENT)
 */
def call(Map args = [:]) {
    String text = pipelinelibCli(['environments', '--json'], returnStdout: true)
    return readJSON(text: text)
}
