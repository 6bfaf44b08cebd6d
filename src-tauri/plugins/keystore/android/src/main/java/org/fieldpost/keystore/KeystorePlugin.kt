package org.fieldpost.keystore

import android.app.Activity
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.util.Base64
import app.tauri.annotation.Command
import app.tauri.annotation.InvokeArg
import app.tauri.annotation.TauriPlugin
import app.tauri.plugin.Invoke
import app.tauri.plugin.JSObject
import app.tauri.plugin.Plugin
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** Bytes from Rust, as base64 text. */
@InvokeArg
class BytesArgs {
    var data: String = ""
}

/**
 * Wraps and unwraps the FieldPost store's (already PIN-wrapped) data key with an AES-256-GCM
 * key that lives in the Android Keystore and never leaves it: generated there, not
 * exportable, in StrongBox when the phone has one (FEATURE_STRONGBOX_KEYSTORE), else in the
 * TEE. A copy of the store file is useless without this phone's key, and every unwrap goes
 * through the secure hardware, one at a time.
 *
 * Blob layout: version byte (1) || 12-byte IV || ciphertext || 16-byte tag.
 */
@TauriPlugin
class KeystorePlugin(private val activity: Activity) : Plugin(activity) {
    private val alias = "fieldpost-store-key"
    private val version: Byte = 1

    @Command
    fun wrap(invoke: Invoke) {
        try {
            val plain = decode(invoke)
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            cipher.init(Cipher.ENCRYPT_MODE, key())
            val sealed = cipher.doFinal(plain)
            resolve(invoke, byteArrayOf(version) + cipher.iv + sealed)
        } catch (e: Exception) {
            invoke.reject("wrap failed: ${e.javaClass.simpleName}")
        }
    }

    @Command
    fun unwrap(invoke: Invoke) {
        try {
            val blob = decode(invoke)
            if (blob.size < 1 + 12 + 16 || blob[0] != version) {
                invoke.reject("unwrap failed: not a FieldPost Keystore blob")
                return
            }
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            cipher.init(Cipher.DECRYPT_MODE, existingKey(), GCMParameterSpec(128, blob, 1, 12))
            resolve(invoke, cipher.doFinal(blob, 13, blob.size - 13))
        } catch (e: Exception) {
            // A missing key (app data cleared, another phone) or an altered blob: no detail
            // beyond the kind, and never the bytes.
            invoke.reject("unwrap failed: ${e.javaClass.simpleName}")
        }
    }

    private fun decode(invoke: Invoke): ByteArray {
        val args = invoke.parseArgs(BytesArgs::class.java)
        return Base64.decode(args.data, Base64.NO_WRAP)
    }

    private fun resolve(invoke: Invoke, bytes: ByteArray) {
        val ret = JSObject()
        ret.put("data", Base64.encodeToString(bytes, Base64.NO_WRAP))
        invoke.resolve(ret)
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    /** The key for unwrapping: never made anew (a new key could not open the old blob). */
    private fun existingKey(): SecretKey =
        keyStore().getKey(alias, null) as? SecretKey
            ?: throw IllegalStateException("no Keystore key on this device")

    /** The key for wrapping: the existing one, or one generated now. */
    private fun key(): SecretKey {
        (keyStore().getKey(alias, null) as? SecretKey)?.let { return it }
        val strongBox = Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            activity.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
        return if (strongBox) {
            try {
                generate(true)
            } catch (e: StrongBoxUnavailableException) {
                generate(false)
            }
        } else {
            generate(false)
        }
    }

    private fun generate(strongBox: Boolean): SecretKey {
        val builder = KeyGenParameterSpec.Builder(
            alias,
            KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT,
        )
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setRandomizedEncryptionRequired(true)
        if (strongBox && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
            builder.setIsStrongBoxBacked(true)
        }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore")
        generator.init(builder.build())
        return generator.generateKey()
    }
}
