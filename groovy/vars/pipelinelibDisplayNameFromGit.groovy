/**
 * Sets this build's display name to the trimmed message of the commit checked out in the
 * current directory (`pipelinelib set-display-name --print`), as the old service pipelines did
 * with `git log -1 --no-merges --format=%B`. The name is assigned as a value: nothing in it is
 * interpreted. Returns the name.
 *
 *   dir('service') { pipelinelibDisplayNameFromGit() }
 *
 * Options: viaApi (false): also set it over Jenkins' REST API and record it in the store
 * (set-display-name without --print; needs JENKINS_USER / JENKINS_API_TOKEN).
 */
def call(Map args = [:]) {
    String name = pipelinelibCli(['set-display-name', '--print'], returnStdout: true).toString()
    name = name.replaceAll('[\\r\\n]+$', '')
    if (args.viaApi) {
        pipelinelibCli(['set-display-name', "--name=${name}".toString()])
    }
    if (name) {
        currentBuild.displayName = name
    }
    return name
}
