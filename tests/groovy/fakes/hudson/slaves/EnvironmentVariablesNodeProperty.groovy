package hudson.slaves

/** Mirrors hudson.slaves.EnvironmentVariablesNodeProperty (Jenkins core): the global properties' variables, getEnvVars(). */
class EnvironmentVariablesNodeProperty {
    private final Map<String, String> envVars

    EnvironmentVariablesNodeProperty(Map<String, String> envVars) {
        this.envVars = new TreeMap(envVars)
    }

    /** Real: an hudson.EnvVars (a TreeMap<String, String>). */
    Map<String, String> getEnvVars() { envVars }
}
